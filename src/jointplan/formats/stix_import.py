"""STIX 2.1 in: a partner's sightings of indicators it may see become its observations.

All or nothing: every sighting of the bundle is checked, and any problem
(named by the object's id and property) refuses the whole import. A sighting
names its indicator by ``sighting_of_ref``: the STIX id jointplan gives the
indicator on export, or the id of an indicator object in the same bundle that
carries ``x_jointplan_id``. An indicator the partner may not see reads exactly
like one that does not exist.

Markings are kept: a sighting's TLP marking (2.0, or STIX's own 1.0 ids read as
their 2.0 equivalents) becomes the observation's ``tlp``, and its ``share`` is
never wider than the marking allows — an ``amber``, ``amber+strict`` or
``red`` observation is the importing partner's alone; ``green`` and ``clear``
take the share asked for.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..model import Tlp, Workspace
from ..sharing.view import view_for
from . import FormatError
from .stix import TLP_BY_ID, indicator_id

Doc = dict[str, Any]
RESTRICTED = (Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


def read_bundle(text: str, source: str) -> list[Doc]:
    """The objects of a STIX bundle (or a list of objects), or FormatError saying why not."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError([f"{source}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}"]) from None
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        doc = doc.get("objects", [])
    if not isinstance(doc, list) or not all(isinstance(o, dict) for o in doc):
        raise FormatError([f"{source}: a STIX 2.1 bundle is expected "
                           '({"type": "bundle", "objects": [...]})'])
    return doc


def sightings_to_observations(objects: list[Doc], ws: Workspace, partner: str,
                              share: list[str] | str | None = None) -> list[Doc]:
    """The partner's observations from the bundle's sightings, or FormatError listing every
    problem as ``OBJECT-ID: property: message``."""
    import stix2
    from stix2.exceptions import STIXError

    view = view_for(ws, partner)
    visible = {indicator_id(ws.id, i["id"]): i["id"] for i in view["indicators"]}
    named = {o.get("id"): o.get("x_jointplan_id") for o in objects
             if o.get("type") == "indicator" and o.get("x_jointplan_id") in visible.values()}
    problems: list[str] = []
    out: list[Doc] = []
    sightings = [o for o in objects if o.get("type") == "sighting"]
    if not sightings:
        raise FormatError(["the bundle holds no sighting objects: nothing to import"])
    for obj in sightings:
        oid = str(obj.get("id", "sighting (without an id)"))
        try:
            stix2.parse(obj, allow_custom=True)
        except STIXError as exc:
            prop = getattr(exc, "prop_name", None) or ", ".join(
                getattr(exc, "properties", None) or []) or "object"
            reason = getattr(exc, "reason", None) or str(exc)
            problems.append(f"{oid}: {prop}: {reason}")
            continue
        ref = obj["sighting_of_ref"]
        indicator = visible.get(ref) or named.get(ref)
        if indicator is None:
            problems.append(f"{oid}: sighting_of_ref: {ref} is no indicator {partner} may see "
                            "in this workspace")
            continue
        when = obj.get("last_seen") or obj.get("first_seen")
        if when is None:
            problems.append(f"{oid}: first_seen: a sighting needs first_seen or last_seen "
                            "to be placed as an observation")
            continue
        seen = obj.get("x_jointplan_seen", obj.get("count", 1) != 0)
        if not isinstance(seen, bool):
            problems.append(f"{oid}: x_jointplan_seen: true or false, not {seen!r}")
            continue
        marks = [TLP_BY_ID[m] for m in obj.get("object_marking_refs", []) if m in TLP_BY_ID]
        if len(set(marks)) > 1:
            problems.append(f"{oid}: object_marking_refs: more than one TLP marking ("
                            + ", ".join(sorted({m.value for m in marks})) + ")")
            continue
        at = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        doc: Doc = {"indicator": indicator, "at": stamp.replace(":00Z", "Z"),
                    "seen": seen, "by": partner}
        tlp = marks[0] if marks else None
        if tlp is not None:
            doc["tlp"] = tlp.value
        if share is not None and tlp is not None and tlp not in RESTRICTED:
            doc["share"] = share  # unmarked reads as amber: the partner's alone
        out.append(doc)
    if problems:
        raise FormatError(problems)
    return out


def import_observations(folder: Path, text: str, source: str, *, partner: str,
                        share: list[str] | str | None = None,
                        output: Path | None = None) -> tuple[Path, int]:
    """Add the bundle's sightings to the partner's observations file in the folder (or
    ``output``); an observation already there is not added twice. Checked with the whole
    workspace first; on any problem nothing is written. Returns the file and how many
    observations were added."""
    import yaml

    from ..services.workspaces import load_checked
    from .planfile import check_in, write

    ws = load_checked(folder).workspace
    new = sightings_to_observations(read_bundle(text, source), ws, partner, share)
    target = output or folder / f"{partner.lower()}-stix-observations.yaml"
    held: list[Doc] = []
    if target.exists():
        doc = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
        if not isinstance(doc, dict) or doc.get("kind") != "observations":
            raise FormatError([f"{target}: not an observations file; sightings are added "
                               "only to a file of kind: observations"])
        held = list(doc.get("observations", []))
    added = [o for o in new if o not in held]
    body = {"jointplan": 1, "kind": "observations", "observations": [*held, *added]}
    out = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    replaces = target if target.exists() and target.parent.resolve() == folder.resolve() \
        else None
    problems = check_in(folder, out, target.name, replaces) if target.parent.resolve() == \
        folder.resolve() else []
    if problems:
        raise FormatError([str(p) for p in problems])
    write(target, out)
    return target, len(added)
