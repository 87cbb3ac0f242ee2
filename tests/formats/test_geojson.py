"""GeoJSON out and in: the partner's areas and located tasks, nothing more; areas checked."""

from __future__ import annotations

import json

import pytest
import shapely
from hypothesis import given
from shapely.geometry import shape

from jointplan.formats import FormatError
from jointplan.formats.geojson import dumps, export_geojson, import_areas
from jointplan.sharing.handling import export_view
from jointplan.sharing.view import view_for
from tests.formats.conftest import CANARY_SETTINGS, assert_no_canary_leaks, example
from tests.strategies import workspaces


@pytest.mark.parametrize("partner", ["NOR", "SOU", "RRA"])
def test_the_export_read_back_holds_the_partners_areas_and_located_tasks(partner):
    ws = example()
    doc = json.loads(dumps(export_geojson(export_view(ws, partner))))
    view = view_for(ws, partner)
    assert doc["type"] == "FeatureCollection"
    areas = {f["properties"]["id"]: f for f in doc["features"]
             if f["properties"]["kind"] == "area"}
    assert list(areas) == [a["id"] for a in view["areas"]]
    for a in view["areas"]:
        assert shape(areas[a["id"]]["geometry"]).equals(shapely.geometry.shape(a["geometry"]))
        assert areas[a["id"]]["properties"]["name"] == a["name"]
    got = {(f["properties"]["plan"], f["properties"]["task"]["id"]): f for f in doc["features"]
           if f["properties"]["kind"] == "task"}
    want = {(p["id"], t["id"]): t for p in view["plans"] for t in p.get("tasks", [])
            if "area" in t}
    assert want, "the example has located tasks for every partner"
    assert set(got) == set(want)
    for key, task in want.items():
        feature = got[key]
        assert feature["properties"]["task"] == task
        assert shape(feature["geometry"]).equals(shape(areas[task["area"]]["geometry"]))


def test_a_withheld_area_leaves_the_task_unlocated():
    ws = example()
    # RRA may see nor-evacuation/assembly-point but not its area
    doc = export_geojson(export_view(ws, "RRA"))
    located = {f["id"] for f in doc["features"]}
    assert "task/nor-evacuation/assembly-point" not in located
    assert "task/nor-evacuation/assembly-point" in {
        f["id"] for f in export_geojson(export_view(ws, "NOR"))["features"]}


@CANARY_SETTINGS
@given(workspaces())
def test_no_export_holds_anything_the_partner_may_not_see(generated):
    assert_no_canary_leaks(generated, lambda ws, p: dumps(export_geojson(export_view(ws, p))),
                           "geojson")


def _collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, indent=1)


def _feature(props, coords=None):
    coords = coords or [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": coords}}


def test_areas_exported_come_back_in_as_they_went_out(tmp_path):
    ws = example()
    path = tmp_path / "areas.geojson"
    path.write_text(dumps(export_geojson(export_view(ws, "NOR"))))
    # the task features are located items, not areas: keep only the areas
    doc = json.loads(path.read_text())
    doc["features"] = [f for f in doc["features"] if f["properties"]["kind"] == "area"]
    path.write_text(json.dumps(doc))
    got = import_areas(path)
    assert [(a["id"], a["name"]) for a in got] == [(a.id, a.name) for a in ws.areas]
    for mine, theirs in zip(got, ws.areas, strict=True):
        assert shape(mine["geometry"]).equals(shape(dict(theirs.geometry)))


@pytest.mark.parametrize(("feature", "message"), [
    (_feature({"name": "No id"}), "features[1] properties.id: missing"),
    (_feature({"id": "Bad Id", "name": "X"}), "features[1] properties.id: 'Bad Id' is not"),
    (_feature({"id": "b", "name": 3}), "features[1] properties.name: must be text"),
    (_feature({"id": "b", "name": "Bow"},
              [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]), "is not a valid polygon"),
    (_feature({"id": "b", "name": "Open"}, [[[0, 0], [1, 0], [1, 1], [0, 1]]]),
     "must end where it starts"),
    (_feature({"id": "b", "name": "Far"}, [[[0, 0], [200, 0], [1, 1], [0, 0]]]),
     "is not a WGS84 longitude/latitude"),
    (_feature({"id": "a", "name": "Again"}), "features[1] properties.id: 'a' is also"),
    ({"type": "Feature", "properties": {"id": "b", "name": "Line"},
      "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
     "features[1] geometry must be a GeoJSON Polygon or MultiPolygon"),
])
def test_a_bad_feature_is_reported_at_its_index_property_and_line(tmp_path, feature, message):
    path = tmp_path / "in.geojson"
    path.write_text(_collection(_feature({"id": "a", "name": "Fine"}), feature))
    with pytest.raises(FormatError) as exc:
        import_areas(path)
    assert len(exc.value.problems) == 1, exc.value.problems
    problem = exc.value.problems[0]
    assert message in problem, problem
    file, line, column, _ = problem.split(":", 3)
    assert file == str(path) and int(line) > 1 and int(column) >= 1


def test_what_is_not_a_feature_collection_is_refused(tmp_path):
    path = tmp_path / "in.geojson"
    path.write_text('{"type": "Feature"}')
    with pytest.raises(FormatError, match="FeatureCollection is expected"):
        import_areas(path)
    path.write_text('{"type": ')
    with pytest.raises(FormatError, match=str(path)):
        import_areas(path)
