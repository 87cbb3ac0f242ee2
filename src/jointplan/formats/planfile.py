"""Writing an imported file into a workspace folder: checked with the rest, all or nothing.

An import builds one document (a plan, or observations), writes it beside a
copy of the folder's other files, and checks the whole workspace as ``check``
would. Only when that finds nothing is the file written where it belongs; a
problem in the new file is handed back with the line and column it was found
at, so that each import can tell it in its own terms.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..files import InvalidWorkspace, Problem, workspace_files
from ..files.yamlread import ReadError, read_file
from ..services.workspaces import load_checked

Doc = dict[str, Any]


def find_plan(folder: Path, plan_id: str) -> tuple[Path | None, Doc | None]:
    """The file of a plan in the folder, and its document, if the folder has it."""
    for path in workspace_files(folder):
        try:
            doc = read_file(path)
        except (ReadError, OSError):
            continue
        if isinstance(doc, dict) and doc.get("kind") == "plan" and doc.get("id") == plan_id:
            return path, _plain(doc)
    return None, None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def emit(doc: Doc, one_line: str, suffix: str) -> tuple[str, int]:
    """The document as YAML (or JSON for ``.json``), each entry of the list ``one_line`` on
    a line of its own; and the line of its first entry (1-based)."""
    if suffix == ".json":
        head = {k: v for k, v in doc.items() if k != one_line}
        lines = json.dumps(head, indent=1, ensure_ascii=False)[:-2].splitlines()
        lines[-1] += ","
        lines.append(f' "{one_line}": [')
        first = len(lines) + 1
        items = [" " + json.dumps(x, ensure_ascii=False) for x in doc[one_line]]
        lines.extend(f"{x}," for x in items[:-1])
        lines.extend(items[-1:])
        lines.extend([" ]", "}"])
        return "\n".join(lines) + "\n", first
    head = {k: v for k, v in doc.items() if k != one_line}
    text = yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100)
    first = text.count("\n") + 2
    text += f"{one_line}:\n" + "".join(
        f"  - {json.dumps(x, ensure_ascii=False)}\n" for x in doc[one_line])
    return text, first


def check_in(folder: Path, text: str, name: str, replaces: Path | None) -> list[Problem]:
    """Problems of the workspace with the file ``name`` holding ``text`` (instead of
    ``replaces``); those in the new file carry ``name`` as their file."""
    with tempfile.TemporaryDirectory(prefix="jointplan-import-") as tmp:
        copy = Path(tmp)
        for path in workspace_files(folder):
            if replaces is None or path.resolve() != replaces.resolve():
                shutil.copy(path, copy / path.name)
        (copy / name).write_text(text, encoding="utf-8")
        try:
            load_checked(copy)
        except InvalidWorkspace as exc:
            return [Problem(Path(p.file).name if Path(p.file).parent == copy else p.file,
                            p.line, p.column, p.message.replace(str(copy) + "/", ""))
                    for p in exc.problems]
    return []


def write(target: Path, text: str) -> None:
    """Write the file whole: to a temporary name beside it, then renamed into place."""
    part = target.with_name(f".{target.name}.part")
    part.write_text(text, encoding="utf-8")
    part.replace(target)
