"""TAXII 2.1 on a running server, read with taxii2-client: each partner its own collection."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
import uvicorn
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from jointplan.api import create_app
from jointplan.formats.stix import export_stix
from jointplan.services.workspaces import load_checked
from jointplan.sharing.handling import export_view
from tests.formats.conftest import EXAMPLE
from tests.server.conftest import start_server


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture
def running(database_url) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server on a free loopback port, with one token per partner."""
    server = start_server(database_url, EXAMPLE)
    config = uvicorn.Config(create_app(server.hub), host="127.0.0.1", port=0,
                            log_level="warning", lifespan="off", ws="none")
    live = uvicorn.Server(config)
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not live.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = live.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/taxii2/", server.tokens
    finally:
        live.should_exit = True
        thread.join(timeout=10)
        server.hub.db.engine.dispose()


def _ids(objects) -> list[str]:
    return [o["id"] for o in objects]


def test_each_partner_pages_through_its_own_collection_and_sees_no_other(running):
    url, tokens = running
    ws = load_checked(EXAMPLE).workspace
    collections = {}
    for partner, token in tokens.items():
        server = Server(url, auth=Bearer(token))
        assert len(server.api_roots) == 1
        root: ApiRoot = server.default
        assert root.versions == ["application/taxii+json;version=2.1"]
        assert len(root.collections) == 1, "one collection per partner"
        found: Collection = root.collections[0]
        assert found.can_read and not found.can_write
        collections[partner] = found
        got = [o for page in as_pages(found.get_objects, per_request=3)
               for o in page.get("objects", [])]
        want = export_stix(export_view(ws, partner), ws)["objects"]
        assert sorted(_ids(got)) == sorted(_ids(want))
        assert len(got) > 3, "paging was exercised"
    # another partner's collection answers like one that does not exist
    nor, sou = collections["NOR"], collections["SOU"]
    as_nor = requests.get(f"{url}root/collections/{sou.id}/objects/",
                          headers={"Authorization": f"Bearer {tokens['NOR']}"}, timeout=10)
    nothing = requests.get(f"{url}root/collections/{'0' * 8}-0000-5000-8000-{'0' * 12}/objects/",
                           headers={"Authorization": f"Bearer {tokens['NOR']}"}, timeout=10)
    assert (as_nor.status_code, as_nor.content) == (nothing.status_code, nothing.content)
    assert as_nor.status_code == 404 and nor.id != sou.id


def test_added_after_gives_only_later_sightings(running):
    url, tokens = running
    collection = Server(url, auth=Bearer(tokens["SOU"])).default.collections[0]
    every = collection.get_objects()["objects"]
    sightings = sorted(o["last_seen"] for o in every if o["type"] == "sighting")
    assert len(sightings) >= 2
    later = collection.get_objects(added_after=sightings[0])["objects"]
    assert sorted(o["last_seen"] for o in later) == [s for s in sightings if s > sightings[0]]


def test_basic_auth_carries_the_token_and_nothing_else_signs_in(running):
    url, tokens = running
    ok = requests.get(url, auth=("anyone", tokens["RRA"]), timeout=10)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/taxii+json;version=2.1"
    for auth in (None, ("anyone", "wrong"), Bearer("wrong")):
        assert requests.get(url, auth=auth, timeout=10).status_code == 401


def test_a_bad_cursor_or_time_names_the_parameter(running):
    url, tokens = running
    collection = Server(url, auth=Bearer(tokens["SOU"])).default.collections[0]
    base = f"{url}root/collections/{collection.id}/objects/"
    auth = {"Authorization": f"Bearer {tokens['SOU']}"}
    r = requests.get(base, params={"next": "garbage"}, headers=auth, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "next"]
    r = requests.get(base, params={"added_after": "soon"}, headers=auth, timeout=10)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "added_after"]
