"""An independent plain model of `drill schedule`: a minute-by-minute event loop.

Written from the rules in docs/format.md, not from services/drill.py: time
advances one minute at a time; within a minute, timed and due injects are
delivered, the minute's actions are matched against open expectations, and
conditions fire, until nothing changes.
"""

from __future__ import annotations

from typing import Any


def plain_schedule(injects: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """``injects``: {id, to, at | (when_exp, when_met, delay), expect: [{id, partner, task, by}]};
    ``actions``: {partner, task, at}. Returns the `drill schedule --json` object."""
    owner = {e["id"]: inj for inj in injects for e in inj["expect"]}
    exps = {e["id"]: e for inj in injects for e in inj["expect"]}
    horizon = max([0] + [i.get("at") or 0 for i in injects] + [e["by"] for e in exps.values()]
                  + [a["at"] for a in actions]) + sum(i.get("delay", 0) for i in injects) + 2
    delivered: dict[str, int] = {}
    due: dict[str, int] = {i["id"]: i["at"] for i in injects if i.get("at") is not None}
    status: dict[str, tuple[str, int]] = {}  # id -> (met|late, action time)
    for t in range(horizon + 1):
        changed = True
        while changed:
            changed = False
            for inj in injects:
                if inj["id"] not in delivered and due.get(inj["id"]) == t:
                    delivered[inj["id"]] = t
                    changed = True
            for eid, e in exps.items():
                src = owner[eid]["id"]
                if eid in status or src not in delivered:
                    continue
                if any(a["partner"] == e["partner"] and a["task"] == e["task"] and a["at"] == t
                       for a in actions):
                    status[eid] = ("met" if t <= e["by"] else "late", t)
                    changed = True
            for inj in injects:
                if inj.get("at") is not None or inj["id"] in due:
                    continue
                e = exps[inj["when_exp"]]
                src = owner[e["id"]]["id"]
                if src not in delivered:
                    continue
                if inj["when_met"]:
                    if status.get(e["id"], ("", 0))[0] == "met":
                        due[inj["id"]] = status[e["id"]][1] + inj["delay"]
                        changed = True
                elif t >= max(e["by"], delivered[src]) and status.get(
                        e["id"], ("", 0))[0] != "met":
                    due[inj["id"]] = max(e["by"], delivered[src]) + inj["delay"]
                    changed = True
    deliveries = [{"inject": i["id"], "partner": p, "at": delivered[i["id"]]}
                  for i in injects if i["id"] in delivered for p in i["to"]]
    deliveries.sort(key=lambda d: (d["at"], d["inject"], d["partner"]))
    out = []
    for eid in sorted(exps):
        e = exps[eid]
        if owner[eid]["id"] not in delivered:
            result, late_by = None, None
        elif eid not in status:
            result, late_by = "missed", None
        else:
            result = status[eid][0]
            late_by = status[eid][1] - e["by"] if result == "late" else None
        out.append({"id": eid, "partner": e["partner"], "result": result, "late_by": late_by})
    return {"deliveries": deliveries, "expectations": out}
