"""The API's response models are the contract's JSON, faithfully.

Every answer the kernels give for the example and every contract vector, as
every partner and as the custodian, validates against its model and comes
back byte for byte from it (nothing added, nothing turned into null); and no
2xx schema of the API leaves an object open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from jointplan.api import create_app
from jointplan.api.reports import CheckOut, SimulationOut, WorkspaceView
from jointplan.services.check import check_report
from jointplan.services.simulate import simulate_workspace
from jointplan.services.workspaces import load_checked
from jointplan.sharing.view import view_for
from tests.conftest import CONTRACT, EXAMPLES

FOLDERS = [EXAMPLES / "northern-strait",
           *sorted(v for v in CONTRACT.iterdir() if (v / "workspace.yaml").is_file())]


def _viewers(folder: Path) -> list[str | None]:
    return [None, *load_checked(folder).workspace.partner_codes]


CASES = [(f, v) for f in FOLDERS for v in _viewers(f)]
IDS = [f"{f.name}-{v or 'custodian'}" for f, v in CASES]


def _round_trip(model: type[BaseModel], data: Any) -> Any:
    return model.model_validate(data).model_dump(mode="json", by_alias=True,
                                                  exclude_unset=True)


@pytest.mark.parametrize(("folder", "viewer"), CASES, ids=IDS)
def test_check_answers_round_trip_through_their_model(folder: Path, viewer: str | None) -> None:
    report = check_report(folder, viewer)
    assert _round_trip(CheckOut, report) == report


@pytest.mark.parametrize(("folder", "viewer"), CASES, ids=IDS)
def test_views_round_trip_through_their_model(folder: Path, viewer: str | None) -> None:
    view = view_for(load_checked(folder).workspace, viewer)
    assert _round_trip(WorkspaceView, view) == view


@pytest.mark.parametrize("viewer", ["NOR", "SOU", "RRA"])
def test_simulations_round_trip_through_their_model(viewer: str) -> None:
    for run in simulate_workspace(EXAMPLES / "northern-strait", viewer, None, samples=50):
        assert _round_trip(SimulationOut, run.report) == run.report


def test_a_key_the_contract_does_not_have_breaks_the_model() -> None:
    report = check_report(EXAMPLES / "northern-strait", "NOR")
    report["conflicts"][0]["tasks"][0]["extra"] = 1
    with pytest.raises(ValidationError):
        CheckOut.model_validate(report)


def _open_objects(node: Any, path: str = "") -> list[str]:
    if isinstance(node, dict):
        here = [path] if node.get("additionalProperties") is True else []
        return here + [p for k, v in node.items() for p in _open_objects(v, f"{path}/{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _open_objects(v, f"{path}/{i}")]
    return []


SCHEMA = create_app(None).openapi()  # type: ignore[arg-type]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


def test_every_json_answer_declares_a_closed_schema() -> None:
    for path, item in SCHEMA["paths"].items():
        for method, op in item.items():
            for status, answer in op["responses"].items():
                if not status.startswith("2"):
                    continue
                content = answer.get("content", {})
                assert content or status == "204", (method, path)
                for media, declared in content.items():
                    if media.split(";")[0] not in ("application/json", "application/taxii+json"):
                        continue  # a file (GeoJSON, a spreadsheet, a calendar): exported as is
                    schema = _resolve(declared.get("schema", {}))
                    assert schema, f"{method} {path} declares no {media} shape"
                    if "taxii" not in media:  # STIX objects have STIX's shape (stix2-validator)
                        assert not _open_objects(schema), (method, path, media)
                    if schema.get("type") == "object":
                        assert schema.get("additionalProperties") is False, (method, path)
    models = SCHEMA["components"]["schemas"]
    out_models = {n for n in models if not n.endswith("In") and n not in (
        "HTTPValidationError", "ValidationError", "SubjectIn",
        "Envelope")}  # a TAXII envelope's objects have STIX's shape (stix2-validator)
    for name in out_models:
        assert not _open_objects(models[name]), name
