"""The cut of a resolution: a partner's answer names nothing it may not see."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from jointplan.analysis.deconflict import Options, deconflict
from jointplan.analysis.run import analyse
from jointplan.cli import app
from jointplan.services.workspaces import load_checked
from jointplan.sharing import Rules
from jointplan.sharing.deconflict_cut import _overload_in, apply_moves, cut_resolution
from tests.strategies import workspaces
from tests.test_differential import assert_no_leak

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "northern-strait"


@SETTINGS
@given(workspaces())
def test_a_partner_is_told_nothing_it_may_not_see(generated):
    with tempfile.TemporaryDirectory(prefix="jointplan-dcut-") as tmp:
        folder = generated.write(Path(tmp) / "ws")
        ws = load_checked(folder).workspace
        rules = Rules(ws)
        for leaf in ws.leaves():
            resolution = deconflict(ws, leaf, Options(time_limit=2.0))
            after = analyse(apply_moves(ws, {(m.plan, m.task): m.to
                                             for m in resolution.moves}))
            before = analyse(ws)
            whole = cut_resolution(resolution, rules, None, after, before)
            assert whole["hidden_moves"] == []
            # the custodian's overload is exactly that of the conflicts that remain
            assert whole["cost"]["overload"] == sum(
                _overload_in(resolution, after, e) for e in whole["remaining"])
            for viewer in generated.partners:
                got = cut_resolution(resolution, rules, viewer, after, before)
                assert_no_leak(json.dumps(got), generated, viewer, "deconflict --json")
                assert got["status"] == whole["status"]
                # a partner's moves are the custodian's it may see, in the same order
                assert [m for m in whole["moves"] if m in got["moves"]] == got["moves"]
                for m in got["moves"]:
                    plan = ws.plan(m["plan"])
                    task = next(t for t in plan.tasks if t.id == m["task"])
                    assert rules.sees_fields(viewer, plan, task, ("start", "flex"))
                hidden_owners = {m["partner"] for m in whole["moves"] if m not in got["moves"]}
                assert got["hidden_moves"] == sorted(hidden_owners)
                assert len(got["why"]) == len(got["remaining"])
                assert got["cost"]["moved_tasks"] == len(got["moves"])


def test_the_example_as_each_partner_validates_against_the_schema_and_hides_what_it_must():
    import jsonschema

    runner = CliRunner()
    schema = json.loads(runner.invoke(app, ["schema", "deconflict"]).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    for who in ([], ["--as", "NOR"], ["--as", "SOU"], ["--as", "RRA"]):
        result = runner.invoke(app, ["deconflict", str(EXAMPLE), "--scenario", "unrest-aster",
                                     "--json", "--time-limit", "5", *who])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        jsonschema.validate(doc, schema)
    # NOR's assembly point is where RRA may not see (its area is withheld from RRA):
    # neither the conflict nor the reasons name it to RRA.
    rra = json.loads(runner.invoke(app, ["deconflict", str(EXAMPLE), "--scenario",
                                         "unrest-aster", "--json", "--as", "RRA",
                                         "--time-limit", "5"]).stdout)
    assert "assembly-point" not in json.dumps(rra)
    assert not re.search(r"assembly-point", runner.invoke(
        app, ["deconflict", str(EXAMPLE), "--scenario", "unrest-aster", "--as", "RRA",
              "--time-limit", "5"], env={"COLUMNS": "400"}).output)
