"""`jointplan check` end to end on a 100k-task workspace, against PyYAML's C loader alone.

    python benchmarks/bench_check.py [--scale 0.1] [--repeat 3] [--as NOR]

The workspace is written by generate.py into benchmarks/_work/ (once; reused
while it exists). Methods, interleaved in one run:

- PyYAML `yaml.load(text, Loader=yaml.CSafeLoader)` for every file, as a user
  would call it (cyclic GC enabled, the default) — the goal's baseline;
- the same with the cyclic GC disabled around the loop (CSafeLoader builds
  millions of objects that stay alive, and Python's collector rescans them);
- `check_report(folder, viewer)` in process: read with positions, validate,
  analyse every leaf, cut for the viewer. GC in its default state (the reader
  turns it off while reading, and back on);
- `check_report` with the GC disabled by the caller, for an even comparison
  with the second baseline (not how the CLI runs);
- the CLI, `jointplan check DIR --as X --json` in a subprocess, its output
  read through a pipe (interpreter start and imports included).

Then `--repeat` more in-process runs, step by step, show where the time goes.

Answers, compared after the clock stops: the two loader runs must read every
file and the tasks the generator wrote (as many as the step-by-step run's
reader finds); the three `check` runs must give the same report, to the
byte of its canonical JSON. The exit status is 1 when any answer differs.
"""

from __future__ import annotations

import gc
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from common import Method, machine, measure, parser, same_answers, table, verdict
from generate import generate
from jointplan.analysis.run import analyse
from jointplan.files import load_workspace, workspace_files
from jointplan.services.check import check_report
from jointplan.sharing import Rules
from jointplan.sharing.cut import check_result
from jointplan.sharing.references import reference_problems

WORK = Path(__file__).resolve().parent / "_work"
YAML_GC = "CSafeLoader, GC on (default)"
YAML_NOGC = "CSafeLoader, GC off"
CHECK = "check_report (in process)"
CHECK_NOGC = "check_report, GC off by caller"
CLI = "jointplan check --json (CLI)"


def workspace(tasks: int, seed: int) -> Path:
    """The generated workspace folder, written on first use."""
    folder = WORK / f"ws-{tasks}-seed{seed}"
    if not (folder / "workspace.yaml").exists():
        partial = folder.with_name(folder.name + ".partial")
        if partial.exists():
            for f in partial.iterdir():
                f.unlink()
            partial.rmdir()
        t0 = time.perf_counter()
        generate(partial, tasks, seed)
        partial.rename(folder)
        print(f"generated {folder} in {time.perf_counter() - t0:.1f} s")
    return folder


def pyyaml_load(files: list[Path], *, collect: bool) -> tuple[int, int]:
    """Load every file with the C loader; the count of documents and of the tasks in
    them (keeps nothing alive)."""
    was = gc.isenabled()
    if not collect:
        gc.disable()
    try:
        documents = tasks = 0
        for path in files:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            documents += doc is not None
            if isinstance(doc, dict):
                tasks += len(doc.get("tasks") or ())
            del doc
        return documents, tasks
    finally:
        if was:
            gc.enable()


def check_in_process(folder: Path, viewer: str, *, collect: bool = True) -> dict[str, Any]:
    was = gc.isenabled()
    if not collect:
        gc.disable()
    try:
        return check_report(folder, viewer)
    finally:
        if was:
            gc.enable()


def check_cli(folder: Path, viewer: str) -> bytes:
    """What `jointplan check --json` prints."""
    exe = Path(sys.executable).with_name("jointplan")
    return subprocess.run([str(exe), "check", str(folder), "--as", viewer, "--json"],
                          stdout=subprocess.PIPE, check=True).stdout


def report_digest(report: dict[str, Any] | bytes) -> tuple[str, int]:
    """SHA-256 of the report's canonical JSON, and its count of conflicts."""
    if isinstance(report, bytes):
        report = json.loads(report)
    else:
        report = json.loads(json.dumps(report, ensure_ascii=False))  # tuples become lists
    text = json.dumps(report, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest(), len(report["conflicts"])


def stages(folder: Path, viewer: str,
           ) -> tuple[list[tuple[str, float, float]], int, tuple[str, int]]:
    """(stage, wall s, cpu s) of one check, done step by step as check_report does it;
    the number of tasks the reader found, and the report's digest."""
    gc.collect()
    out = []
    clock = (time.perf_counter(), time.process_time())

    def lap(name: str) -> None:
        nonlocal clock
        now = (time.perf_counter(), time.process_time())
        out.append((name, now[0] - clock[0], now[1] - clock[1]))
        clock = now

    loaded = load_workspace(folder)
    lap("read + validate files (files.load_workspace)")
    tasks = sum(len(plan.tasks) for plan in loaded.workspace.plans)
    problems = reference_problems(loaded.workspace, loaded.locator)
    assert not problems
    lap("sharing-dependent references (sharing.references)")
    analysis = analyse(loaded.workspace)
    lap("analyse every leaf (analysis.run.analyse)")
    report = check_result(analysis, Rules(loaded.workspace), viewer)
    lap("cut for the viewer (sharing.cut.check_result)")
    json.dumps(report, indent=2, ensure_ascii=False)
    lap("JSON text (as the CLI prints it)")
    return out, tasks, report_digest(report)


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.split("\n\n")[0], repeat=3)
    p.add_argument("--as", dest="viewer", default="NOR", help="the partner to check as")
    args = p.parse_args(argv)
    tasks = max(200, int(100_000 * args.scale))
    folder = workspace(tasks, args.seed)
    files = workspace_files(folder)
    size = sum(f.stat().st_size for f in files)
    shown = folder.relative_to(WORK.parent.parent) if folder.is_relative_to(WORK.parent.parent) \
        else folder
    print(f"check: {shown} ({tasks:,} tasks, {len(files)} files, {size / 1e6:.1f} MB) as "
          f"{args.viewer}; {machine()}")
    methods = [
        Method(YAML_GC, lambda: pyyaml_load(files, collect=True), tasks),
        Method(YAML_NOGC, lambda: pyyaml_load(files, collect=False), tasks),
        Method(CHECK, lambda: check_in_process(folder, args.viewer), tasks,
               summary=report_digest),
        Method(CHECK_NOGC, lambda: check_in_process(folder, args.viewer, collect=False), tasks,
               note="not the default", summary=report_digest),
        Method(CLI, lambda: check_cli(folder, args.viewer), tasks, summary=report_digest),
    ]
    measure(methods, args.repeat)
    print(table(f"check end to end, {tasks:,} tasks, {args.repeat} runs", methods,
                {"yaml": YAML_GC, "yaml-nogc": YAML_NOGC}, "tasks"))
    print(f"conflicts reported to {args.viewer}: {methods[2].answer[1]:,}")
    tiny = workspace(200, args.seed)
    startup = Method("CLI on a 200-task workspace", lambda: check_cli(tiny, args.viewer), 200,
                     summary=report_digest)
    measure([startup], args.repeat)
    print(f"CLI fixed cost (interpreter start, imports, a 200-task check): best "
          f"{startup.best:.2f} s wall, {startup.best_cpu:.2f} s CPU")

    timed = [stages(folder, args.viewer) for _ in range(args.repeat)]
    runs = [r for r, _, _ in timed]
    _, read_tasks, reference = timed[-1]
    steps = [(name, min(r[k][1] for r in runs), min(r[k][2] for r in runs))
             for k, (name, _, _) in enumerate(runs[0])]
    total_wall = sum(s[1] for s in steps)
    total_cpu = sum(s[2] for s in steps)
    width = max(len(s[0]) for s in steps)
    print(f"where the time goes (check_report step by step, GC default, best of {args.repeat} "
          f"per step): {total_wall:.2f} s wall, {total_cpu:.2f} s CPU")
    for name, wall, cpu in steps:
        print(f"  {name.ljust(width)}  {wall:6.2f} s  {cpu:6.2f} s cpu  "
              f"{100 * cpu / total_cpu:5.1f}%")

    by = {m.name: m for m in methods}
    for who in (CHECK, CLI):
        for base in (YAML_GC, YAML_NOGC):
            print(verdict(f"{who} <= 1.5x {base}", by[who], by[base], 1.5))

    expected = (len(files), tasks)
    same = []
    for name in (YAML_GC, YAML_NOGC):
        documents, found = by[name].answer
        same.append(by[name].answer == expected and found == read_tasks)
        print(same_answers(name, same[-1], f"{documents} documents, {found:,} tasks (generated: "
                           f"{len(files)} files, {tasks:,} tasks; the reader found "
                           f"{read_tasks:,})"))
    for name in (CHECK, CHECK_NOGC, CLI):
        digest, conflicts = by[name].answer
        same.append(by[name].answer == reference)
        print(same_answers(name, same[-1], f"report sha256 {digest[:16]}, {conflicts:,} "
                           f"conflicts (the step-by-step run: {reference[0][:16]})"))
    tiny_reference = report_digest(check_report(tiny, args.viewer))
    same.append(startup.answer == tiny_reference)
    print(same_answers(startup.name, same[-1], f"report sha256 {startup.answer[0][:16]} "
                       f"(check_report in process: {tiny_reference[0][:16]})"))
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
