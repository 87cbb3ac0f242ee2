"""Shared helpers for the format tests: the example, generated workspaces, leak checks."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings

from jointplan.model import Workspace
from jointplan.services.workspaces import load_checked
from tests.conftest import EXAMPLES
from tests.strategies import GeneratedWorkspace

EXAMPLE = EXAMPLES / "northern-strait"

CANARY_SETTINGS = settings(max_examples=25, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])


def example() -> Workspace:
    return load_checked(EXAMPLE).workspace


@contextmanager
def generated_workspace(generated: GeneratedWorkspace) -> Iterator[Workspace]:
    with tempfile.TemporaryDirectory(prefix="jointplan-formats-") as tmp:
        yield load_checked(generated.write(Path(tmp) / "ws")).workspace


def assert_no_canary_leaks(generated: GeneratedWorkspace,
                           export: Callable[[Workspace, str], str], what: str) -> None:
    """Export as every partner; no canary the partner may not see is in the text."""
    with generated_workspace(generated) as ws:
        for viewer in generated.partners:
            text = export(ws, viewer)
            for canary in generated.forbidden(viewer):
                assert canary not in text, f"{what} as {viewer} leaks {canary!r}:\n{text}"
