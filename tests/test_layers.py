"""The layers import downwards only (docs/server.md, "Layers").

Adapters (``cli``, ``api``, ``web``) call the use cases (``server``,
``services``), which ask the gate (``sharing``) and the kernels
(``analysis``) over the model (``model``, ``files``). ``api`` builds the app
and mounts the pages, so the pages never import the API: what both need
(who is asking) lives in ``jointplan.caller``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "jointplan"

FORBIDDEN = {
    "web": {"api", "cli"},
    "api": {"cli"},
    "caller": {"api", "web", "cli"},
    "server": {"api", "web", "cli", "caller"},
    "services": {"api", "web", "cli", "caller", "server"},
    "sharing": {"api", "web", "cli", "caller", "server", "services", "store"},
    "analysis": {"api", "web", "cli", "caller", "server", "services", "store", "sharing"},
    "model": {"api", "web", "cli", "caller", "server", "services", "store", "sharing",
              "analysis"},
}


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imported(path: Path) -> set[str]:
    """The top-level jointplan parts a module imports (absolute or relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(SRC).parts) - 1  # folders below jointplan/
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names
                    if a.name.startswith("jointplan.") and a.name.count(".") >= 1}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0:
                if module.startswith("jointplan."):
                    out.add(module.split(".")[1])
                continue
            up = node.level - 1  # levels above the module's own folder
            if up < depth:  # stays inside the module's own top-level part
                continue
            if module:
                out.add(module.split(".")[0])
            else:
                out |= {a.name for a in node.names}
    return out


MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_a_module_imports_no_layer_above_its_own(path: Path) -> None:
    forbidden = FORBIDDEN.get(_package(path), set())
    wrong = _imported(path) & forbidden
    assert not wrong, f"{path.relative_to(SRC)} imports {sorted(wrong)}"


def test_the_pages_do_not_import_the_api() -> None:
    pages = [p for p in MODULES if _package(p) == "web"]
    assert pages and not any("api" in _imported(p) for p in pages)


def test_the_checker_sees_relative_imports_upwards() -> None:
    assert "web" in _imported(SRC / "api" / "app.py")
    assert "server" in _imported(SRC / "web" / "pages.py")
    assert "caller" in _imported(SRC / "web" / "render.py")
