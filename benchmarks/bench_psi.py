"""Private deconfliction at 100k tokens a side, against openmined-psi alone on the same tokens.

    python benchmarks/bench_psi.py [--scale 0.1] [--repeat 3]

Part 1 times one private set intersection of N tokens a side (N = 100k at
scale 1; a tenth of them shared), in one process playing both nodes:

- openmined-psi alone: client request, server setup and response, client
  intersection — the library's calls on the token lists, nothing else;
- jointplan: the nodes' path (`server/federation/psi.py`): the same calls
  plus serialising and parsing each message as it crosses the wire (base64,
  as in the signed envelopes) and summing the matched tokens into collisions.

Both must find the same intersection (goal: jointplan ≤ 1.2× the library).

Part 2 counts tokens: two nodes' hidden uses on a synthetic workspace
(resources with capacity, 60 days, random tasks) give fine tokens (6-hour
buckets); the nodes' run buckets coarsely first (1-day buckets, one token a
bucket from the asking node) and refines only where coarse buckets meet, both
sides padding the refine pass to the same budget (server/federation/tokens.py),
and sends fewer tokens. The collisions found both ways must be equal (a fine
overflow is always inside a coarse one).
"""

from __future__ import annotations

import base64
import random
import sys
from dataclasses import replace
from pathlib import Path

import private_set_intersection.python as psi

from common import Method, measure, parser, same_answers, table, verdict
from jointplan.model import Duration, Resource
from jointplan.server.federation.psi import Asker, answer_request, collisions, intersect_plain
from jointplan.server.federation.tokens import (
    Token,
    budget,
    coarse_tokens,
    padded,
    tokens,
    where,
)
from jointplan.services.workspaces import load_checked

ROOT = Path(__file__).resolve().parents[1]


def library_alone(mine: list[str], theirs: list[str]) -> list[int]:
    client = psi.client.CreateWithNewKey(True)
    server = psi.server.CreateWithNewKey(True)
    request = client.CreateRequest(mine)
    setup = server.CreateSetupMessage(1e-9, len(mine), theirs, psi.DataStructure.RAW)
    response = server.ProcessRequest(request)
    return sorted(client.GetIntersection(setup, response))


def nodes_path(mine: list[str], theirs: list[str], meaning: dict[str, Token]) -> list[str]:
    asker = Asker(mine)
    wire = base64.b64encode(asker.request())  # as the envelope carries it
    setup, response = answer_request(theirs, base64.b64decode(wire))
    setup, response = base64.b64decode(base64.b64encode(setup)), base64.b64decode(
        base64.b64encode(response))
    matched = asker.intersection(setup, response)
    collisions([meaning[t] for t in matched])
    return matched


def part1(n: int, repeat: int, seed: int) -> bool:
    rng = random.Random(seed)
    shared = [f"capacity|s|r{rng.randrange(10**6)}|360|{i * 360}|1" for i in range(n // 10)]
    mine = shared + [f"capacity|s|a{i}|360|{i}|1" for i in range(n - len(shared))]
    theirs = shared + [f"capacity|s|b{i}|360|{i}|1" for i in range(n - len(shared))]
    mine, theirs = sorted(set(mine)), sorted(set(theirs))
    meaning = {t: Token("capacity", "s", t.split("|")[2], int(t.split("|")[4]), 360)
               for t in mine}
    base = Method("openmined-psi alone", lambda: library_alone(mine, theirs), len(mine),
                  summary=lambda idx: sorted(mine[i] for i in idx))
    ours = Method("jointplan nodes' path", lambda: nodes_path(mine, theirs, meaning),
                  len(mine), summary=sorted)
    measure([base, ours], repeat)
    print(table(f"one intersection, {len(mine)} tokens a side", [base, ours],
                {"lib": base.name}, "tokens"))
    same = base.answer == ours.answer == sorted(set(mine) & set(theirs))
    print(same_answers(ours.name, same, f"{len(ours.answer)} shared tokens, "
                       "as the library and a plain set intersection"))
    print(same_answers(base.name, base.answer == sorted(set(mine) & set(theirs)),
                       "a plain set intersection"))
    print(verdict("jointplan <= 1.2x openmined-psi alone", ours, base, 1.2))
    return same


def _workspace(scale: float, seed: int):  # type: ignore[no-untyped-def]
    ws = load_checked(ROOT / "examples" / "northern-strait").workspace
    rng = random.Random(seed)
    resources = tuple(Resource(f"r{i}", f"Resource {i}", rng.choice((5, 10, 20)))
                      for i in range(max(2, int(100 * scale))))
    ws = replace(ws, resources=resources, _index={})
    template = ws.plans[0]
    sides = []
    for side in range(2):
        tasks = []
        for i in range(max(4, int(2000 * scale))):
            start = rng.randrange(0, 60 * 1440)
            length = rng.choice((60, 180, 360, 720))
            task = replace(template.tasks[0], id=f"t{side}-{i}", start=start,
                           duration=Duration(length, length, length), area=None,
                           uses={rng.choice(resources).id: rng.randint(1, 6)})
            tasks.append((template, task))
        sides.append(tasks)
    return ws, sides


def part2(scale: float, seed: int) -> bool:
    ws, (a, b) = _workspace(scale, seed)
    fine_a, fine_b = tokens(ws, a, "NOR", "SOU"), tokens(ws, b, "SOU", "NOR")
    fine = collisions([fine_a[t] for t in intersect_plain(sorted(fine_a), sorted(fine_b))])
    # as the nodes run it (server/federation/deconflict.py): NOR asks, SOU answers
    coarse_a = coarse_tokens(ws, a, asking=True)
    coarse_b = coarse_tokens(ws, b, asking=False)
    met = {where(coarse_a[t]) for t in intersect_plain(sorted(coarse_a), sorted(coarse_b))}
    fine_met = tokens(ws, a, "NOR", "SOU", only=met)
    size = budget(ws, met)
    refine_a = padded(fine_met, size)
    refine_b = padded(tokens(ws, b, "SOU", "NOR", only=met), size)
    refined = collisions([fine_met[t] for t in intersect_plain(refine_a, refine_b)
                          if t in fine_met])
    plain = len(fine_a) + len(fine_b)
    staged = len(coarse_a) + len(coarse_b) + len(refine_a) + len(refine_b)
    print(f"\ntokens, {len(a)} hidden tasks a side on {len(ws.resources)} resources, 60 days:")
    print(f"  fine only (6 h buckets):          {plain} tokens sent")
    print(f"  coarse (1 day) then fine where met: {len(coarse_a) + len(coarse_b)} + "
          f"{len(refine_a) + len(refine_b)} (padded) = {staged} tokens sent "
          f"({staged / plain:.2f}x of fine only; {len(met)} coarse buckets met)")
    same = [c.as_json() for c in refined] == [c.as_json() for c in fine]
    print(same_answers("coarse then fine", same, f"{len(fine)} collisions, as fine only"))
    return same


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__.split("\n\n")[0], repeat=3).parse_args(argv)
    ok = part1(max(100, int(100_000 * args.scale)), args.repeat, args.seed)
    ok = part2(args.scale, args.seed) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
