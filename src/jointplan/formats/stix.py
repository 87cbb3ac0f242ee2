"""STIX 2.1 out, with TLP 2.0 markings: a partner's indicators and observations as a bundle.

From the partner's export view only: an ``identity`` per partner of the
workspace, an ``indicator`` per indicator it may see (the scenarios it informs
in ``x_jointplan_*`` properties) and a ``sighting`` per observation it may see.
Each object carries the TLP 2.0 marking definition of its source (the standard
ids), and the bundle holds those marking definitions. STIX ids are uuid5 of a
fixed namespace and ids the partner sees, so exporting again gives the same ids
and a consumer updates rather than duplicates.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ..model import Tlp, Workspace
from ..sharing.handling import ExportView

Doc = dict[str, Any]

NAMESPACE = uuid.UUID("0b6f3c1e-8a52-5d2f-b1a4-6f2e9c7d3a10")
"""Fixed: the same object of the same workspace always gets the same STIX id."""

CREATED = "2020-01-01T00:00:00.000Z"
"""jointplan files carry no creation times; a fixed one keeps re-exports stable."""

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The standard TLP 2.0 marking definitions (OASIS common objects)."""

TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
"""STIX 2.1's own TLP 1.0 definitions, read on import as their TLP 2.0 equivalents."""

TLP_BY_ID = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}


def marking_definition(tlp: Tlp) -> Doc:
    """The standard TLP 2.0 marking-definition object for one level."""
    return {"type": "marking-definition", "spec_version": "2.1", "id": TLP2_IDS[tlp],
            "created": "2022-10-01T00:00:00.000Z", "name": f"TLP:{tlp.value.upper()}",
            "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension",
                                            "tlp_2_0": tlp.value}}}


def stix_id(kind: str, ws_id: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '/'.join((ws_id, kind, *parts)))}"


def identity_id(ws_id: str, partner: str) -> str:
    return stix_id("identity", ws_id, partner)


def indicator_id(ws_id: str, indicator: str) -> str:
    return stix_id("indicator", ws_id, indicator)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _at(text: str) -> str:
    return _stamp(datetime.fromisoformat(text))


def export_stix(ev: ExportView, ws: Workspace, now: datetime | None = None) -> Doc:
    """The partner's indicators and observations as a STIX 2.1 bundle (a plain dict)."""
    view, wid = ev.view, ev.view["id"]
    modified = _stamp(now or datetime.now(UTC))
    common = {"spec_version": "2.1", "created": CREATED, "modified": modified}
    objects: list[Doc] = []
    used: set[Tlp] = set()
    for p in view["partners"]:
        objects.append({"type": "identity", "id": identity_id(wid, p["code"]), **common,
                        "name": p["name"], "identity_class": "organization",
                        "x_jointplan_partner": p["code"]})
    for ind in view["indicators"]:
        tlp = ev.indicator_tlp(ind)
        used.add(tlp)
        objects.append({
            "type": "indicator", "id": indicator_id(wid, ind["id"]), **common,
            "created_by_ref": identity_id(wid, ind["owner"]),
            "name": ind["title"], "indicator_types": ["unknown"],
            "pattern": f"[x-jointplan-indicator:name = '{ind['id']}']",
            "pattern_type": "stix", "pattern_version": "2.1", "valid_from": CREATED,
            "object_marking_refs": [TLP2_IDS[tlp]],
            "x_jointplan_workspace": wid, "x_jointplan_id": ind["id"],
            "x_jointplan_scenarios": list(ind["likelihood"]),
            "x_jointplan_likelihood": dict(ind["likelihood"]),
        })
    repeats: Counter[tuple[str, ...]] = Counter()
    for obs in view["observations"]:
        tlp = ev.observation_tlp(obs)
        used.add(tlp)
        at = _at(obs["at"])
        key = (obs["indicator"], obs["by"], at, str(obs["seen"]).lower())
        repeats[key] += 1
        objects.append({
            "type": "sighting",
            "id": stix_id("sighting", wid, *key, str(repeats[key])), **common,
            "created_by_ref": identity_id(wid, obs["by"]),
            "sighting_of_ref": indicator_id(wid, obs["indicator"]),
            "first_seen": at, "last_seen": at, "count": 1 if obs["seen"] else 0,
            "where_sighted_refs": [identity_id(wid, obs["by"])],
            "object_marking_refs": [TLP2_IDS[tlp]],
            "x_jointplan_workspace": wid, "x_jointplan_seen": obs["seen"],
        })
    markings = [marking_definition(t) for t in sorted(used, key=lambda t: t.rank)]
    bundle_key = "/".join(o["id"] for o in objects)
    return {"type": "bundle", "id": stix_id("bundle", wid, ev.partner, bundle_key),
            "objects": [*markings, *objects]}


def dumps(bundle: Doc) -> str:
    """The bundle as JSON, checked by the stix2 library (custom ``x_`` properties allowed)."""
    import stix2

    stix2.parse(bundle, allow_custom=True)
    return json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"
