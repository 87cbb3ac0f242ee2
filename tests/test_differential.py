"""Differential property test: `check --json` against the plain reference model.

For every generated workspace, as every partner and as the whole workspace
(viewer ``None``), ``jointplan.services.check.check_report`` must print what the
reference model in ``tests/reference`` prints; and no canary of an object (or a
withheld field) the viewer may not see may appear in the JSON or in the text
output of ``jointplan check DIR --as CODE``.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings

from tests.reference.model import reference_check
from tests.strategies import GeneratedWorkspace, workspaces

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

KIND_ORDER = {"capacity": 0, "area": 1, "unanswered": 0, "late": 1, "early": 2, "short": 3}


def _plain(report: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(report))


def _conflict_key(c: dict[str, Any], order: list[str]) -> tuple[Any, ...]:
    return (KIND_ORDER[c["kind"]], c.get("resource", c.get("areas")), c["window"],
            [order.index(s) for s in c["scenarios"]])


def _gap_key(g: dict[str, Any], order: list[str]) -> tuple[Any, ...]:
    return (g["expectation"], KIND_ORDER[g["kind"]], [order.index(s) for s in g["scenarios"]])


def _canonical(entries: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True) for e in entries)


def assert_same_report(got: dict[str, Any], want: dict[str, Any], order: list[str]) -> None:
    """Equal to the reference; lists in the order the format defines.

    Entries that tie on every key the format sorts by may come in any order;
    everything else, including the order of items inside a conflict, is exact.
    """
    got, want = _plain(got), _plain(want)
    assert set(got) == set(want), f"keys differ: {sorted(got)} != {sorted(want)}"
    assert got["workspace"] == want["workspace"]
    assert got["as"] == want["as"]
    assert got["coverage"] == want["coverage"]

    assert set(got["likelihood"]) == set(want["likelihood"])
    for scenario, value in want["likelihood"].items():
        other = got["likelihood"][scenario]
        if value is None or other is None:
            assert other == value, f"likelihood of {scenario}: {other} != {value}"
        else:  # both rounded to 6 decimals; float noise may move the last one
            assert abs(other - value) <= 1.5e-6, f"likelihood of {scenario}: {other} != {value}"
            assert round(other, 6) == other, f"likelihood of {scenario} not at 6 decimals: {other}"

    for name, key in (("conflicts", _conflict_key), ("gaps", _gap_key)):
        assert _canonical(got[name]) == _canonical(want[name]), (
            f"{name} differ:\n got  {json.dumps(got[name], indent=1)}\n"
            f" want {json.dumps(want[name], indent=1)}")
        keys = [key(e, order) for e in got[name]]
        assert keys == sorted(keys), f"{name} not in the format's order: {got[name]}"


def assert_no_leak(text: str, generated: GeneratedWorkspace, viewer: str, what: str) -> None:
    for canary in generated.forbidden(viewer):
        assert canary not in text, f"{what} as {viewer} leaks {canary!r}:\n{text}"


def _cli_app() -> Any:
    try:
        import jointplan.cli as cli
    except ImportError:
        return None
    return getattr(cli, "app", None)


# --------------------------------------------------------------------- pinned corner cases

_JOINT = """\
jointplan: 1
kind: workspace
id: corner
title: Corner cases
partners:
  - {code: AAA, name: Alpha}
  - {code: BBB, name: Bravo}
  - {code: NO, name: Northland}
areas:
  - id: a0
    name: A0
    geometry: {type: Polygon, coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
  - id: a1
    name: A1 touching A0
    geometry: {type: Polygon, coordinates: [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
resources:
  - {id: crane, name: Crane, capacity: 1}
scenarios:
  - {id: zeta, title: Z, prior: 0.5}
  - {id: alpha, title: A, prior: 0.5}
"""


def _plan(pid: str, owner: str, body: str, scenarios: str = "[zeta]") -> str:
    return (f"jointplan: 1\nkind: plan\nid: {pid}\nowner: {owner}\n"
            f"title: canary-{pid}-title\nscenarios: {scenarios}\n{body}")


def _case(plans: dict[str, str], canaries: dict[str, set[str]]) -> GeneratedWorkspace:
    files = {"workspace.yaml": _JOINT} | {f"{pid}.yaml": text for pid, text in plans.items()}
    return GeneratedWorkspace(files=files, partners=["AAA", "BBB", "NO"],
                              canaries=[(c, frozenset(v)) for c, v in canaries.items()])


# two hidden tasks of one partner make the same entry twice in one leaf: reported once
SAME_ENTRY_TWICE = _case({
    "aaa-own1z": _plan("aaa-own1z", "AAA", "tasks:\n"
                       "  - {id: x, title: t, start: T+0h, duration: 2h, area: a0,"
                       " exclusive: true}\n"
                       "  - {id: w, title: t, start: T+0h, duration: 2h, area: a1,"
                       " exclusive: true}\n"),
    "bbb-hid1z": _plan("bbb-hid1z", "BBB", "tasks:\n"
                       "  - {id: hy101z, title: t, start: T+0h, duration: 2h, area: a0}\n"
                       "  - {id: hy102z, title: t, start: T+1h, duration: 1h, area: a0}\n"
                       "  - {id: hy103z, title: t, start: T+0h, duration: 2h, area: a0}\n"),
}, {"bbb-hid1z": {"BBB"}, "hy101z": {"BBB"}, "hy102z": {"BBB"}, "hy103z": {"BBB"},
    "aaa-own1z": {"AAA"}})

# a hidden partner's long overload cut into the viewer's pieces (touching own items join);
# NO names every item but one commitment withheld from it
PIECES = _case({
    "aaa-own2z": _plan("aaa-own2z", "AAA", "share: [NO]\ntasks:\n"
                       "  - {id: x1, title: t, start: T+1h, duration: 1h, uses: {crane: 1}}\n"
                       "  - {id: x2, title: t, start: T+5h, duration: 1h, uses: {crane: 1}}\n"
                       "  - {id: x3, title: t, start: T+6h, duration: 1h, uses: {crane: 1},"
                       " withhold: {commitment: [NO]}, commitment: intent}\n"),
    "bbb-hid2z": _plan("bbb-hid2z", "BBB", "share: [NO]\ntasks:\n"
                       "  - {id: hy201z, title: t, start: T+0h, duration: 10h, uses: {crane: 2}}\n"
                       "provides:\n"
                       "  - {id: pv202z, to: NO, what: canary-pv202z-what, uses: {crane: 1},"
                       " window: [T+3h, T+9h]}\n", "[zeta, alpha]"),
}, {"bbb-hid2z": {"BBB", "NO"}, "hy201z": {"BBB", "NO"}, "aaa-own2z": {"AAA", "NO"}})

# one expectation, one kind, two leaves with different provisions: ordered by leaf order
GAP_LEAVES = _case({
    "aaa-exp3z": _plan("aaa-exp3z", "AAA", "share: [BBB]\nexpects:\n"
                       "  - {id: e, from: BBB, what: w, uses: {crane: 1}, window: [T+0h, T+4h]}\n"
                       "  - {id: f, from: NO, what: w, window: [T+0h, T+4h]}\n", "[zeta, alpha]"),
    "bbb-pro3z": _plan("bbb-pro3z", "BBB", "provides:\n"
                       "  - {id: p1, to: AAA, what: w, uses: {crane: 1}, window: [T+1h, T+4h]}\n"),
    "bbb-pro4z": _plan("bbb-pro4z", "BBB", "provides:\n"
                       "  - {id: p2, to: AAA, what: w, uses: {crane: 1}, window: [T+2h, T+3h]}\n",
                       "[alpha]"),
    "no-pro5z": _plan("no-pro5z", "NO", "provides:\n"
                      "  - {id: p3, to: AAA, what: w, uses: {crane: 1}, window: [T+0h, T+4h]}\n"),
}, {"bbb-pro4z": {"BBB", "AAA"}, "canary-bbb-pro4z-title": {"BBB"}})

CORNER_CASES = [SAME_ENTRY_TWICE, PIECES, GAP_LEAVES]


def _with_corner_cases(test: Any) -> Any:
    for case in CORNER_CASES:
        test = example(case)(test)
    return test


@_with_corner_cases
@SETTINGS
@given(workspaces())
def test_the_reference_model_itself_never_leaks(generated):
    with tempfile.TemporaryDirectory(prefix="jointplan-ref-") as tmp:
        folder = generated.write(Path(tmp) / "ws")
        for viewer in generated.partners:
            text = json.dumps(reference_check(folder, viewer))
            assert_no_leak(text, generated, viewer, "reference")


@_with_corner_cases
@SETTINGS
@given(workspaces())
def test_check_json_matches_the_reference_model_and_leaks_nothing(generated):
    from jointplan.services.check import check_report

    app = _cli_app()
    with tempfile.TemporaryDirectory(prefix="jointplan-diff-") as tmp:
        folder = generated.write(Path(tmp) / "ws")
        want_whole = reference_check(folder, None)
        order = list(want_whole["likelihood"])  # every scenario, in workspace order
        assert_same_report(check_report(folder, None), want_whole, order)
        for viewer in generated.partners:
            got = check_report(folder, viewer)
            assert_same_report(got, reference_check(folder, viewer), order)
            assert_no_leak(json.dumps(got), generated, viewer, "check --json")
            if app is not None:
                from typer.testing import CliRunner

                result = CliRunner().invoke(app, ["check", str(folder), "--as", viewer],
                                            env={"COLUMNS": "400"})
                assert result.exit_code == 0, result.output
                assert_no_leak(result.output, generated, viewer, "check (text)")
                # a name a table wrapped over two lines is still a leak
                squeezed = re.sub(r"[\s\u2500-\u257f]+", "", result.output)
                assert_no_leak(squeezed, generated, viewer, "check (text, unwrapped)")
