"""TAXII 2.1 read endpoints: discovery, the API root, the partner's collection, its objects.

Authenticated with the partner's API tokens only: `Authorization: Bearer TOKEN`,
or HTTP Basic with any user name and the token as the password (for TAXII
clients that speak only Basic). Answers are `application/taxii+json;version=2.1`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict

from ..caller import bearer
from ..server import taxii
from ..services.accounts import Actor, actor_for_token
from .deps import HubDep

PREFIX = "/api/taxii2"
router = APIRouter(prefix=PREFIX, tags=["taxii"])


class TaxiiResponse(JSONResponse):
    media_type = taxii.MEDIA


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Discovery(_Closed):
    """TAXII 2.1 discovery resource."""

    title: str
    description: str
    default: str
    api_roots: list[str]


class ApiRoot(_Closed):
    """TAXII 2.1 API root resource."""

    title: str
    versions: list[str]
    max_content_length: int


class Collection(_Closed):
    """TAXII 2.1 collection resource: what one partner may see."""

    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    media_types: list[str]


class Collections(_Closed):
    collections: list[Collection]


class Envelope(_Closed):
    """TAXII 2.1 envelope. ``objects`` are STIX 2.1 objects (their shape is STIX's own,
    checked with stix2-validator in the tests), cut to the caller's partner."""

    more: bool
    next: str | None = None
    objects: list[dict[str, Any]]


def taxii_actor(request: Request, hub: HubDep,
                declared: Annotated[HTTPAuthorizationCredentials | None,
                                    Depends(bearer)]) -> Actor:
    """The partner a TAXII request acts for, from its API token; 401 otherwise.

    The bearer scheme is declared (it is what the schema documents); the header is read
    here so that a token sent as the Basic password works too."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    secret = value.strip()
    if scheme.lower() == "basic":
        try:
            secret = base64.b64decode(secret, validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            secret = ""
    elif scheme.lower() != "bearer":
        secret = ""
    if secret:
        with hub.db.read() as session:
            actor = actor_for_token(session, secret)
        if actor is not None:
            return actor
    raise HTTPException(401, "send an API token (Bearer, or as the Basic password)",
                        headers={"WWW-Authenticate": "Bearer"})


TaxiiActor = Annotated[Actor, Depends(taxii_actor)]


def _taxii(body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return TaxiiResponse(body, headers=headers)


@router.get("/", response_class=TaxiiResponse, response_model=Discovery)
def discovery(request: Request, actor: TaxiiActor) -> JSONResponse:
    """TAXII discovery: one API root."""
    root = str(request.url_for("api_root"))
    return _taxii({"title": "jointplan", "description": "What your partner may see, as "
                   "STIX 2.1 with TLP 2.0 markings.", "default": root, "api_roots": [root]})


@router.get("/root/", name="api_root", response_class=TaxiiResponse, response_model=ApiRoot)
def api_root(actor: TaxiiActor) -> JSONResponse:
    return _taxii({"title": "jointplan", "versions": [taxii.MEDIA],
                   "max_content_length": 0})


@router.get("/root/collections/", response_class=TaxiiResponse,
            response_model=Collections)
def collections(hub: HubDep, actor: TaxiiActor) -> JSONResponse:
    """One collection: what the caller's partner may see."""
    with hub.db.read() as session:
        return _taxii({"collections": [taxii.collection(hub, session, actor)]})


@router.get("/root/collections/{collection_id}/", response_class=TaxiiResponse,
            response_model=Collection)
def get_collection(collection_id: str, hub: HubDep, actor: TaxiiActor) -> JSONResponse:
    with hub.db.read() as session:
        return _taxii(taxii.collection(hub, session, actor, collection_id))


@router.get("/root/collections/{collection_id}/objects/", response_class=TaxiiResponse,
            response_model=Envelope)
def get_objects(collection_id: str, hub: HubDep, actor: TaxiiActor,
                added_after: Annotated[str | None, Query(max_length=40)] = None,
                limit: Annotated[int | None, Query(ge=1, le=taxii.MAX_PAGE)] = None,
                next: Annotated[str | None, Query(max_length=200)] = None,  # noqa: A002
                ) -> JSONResponse:
    """The collection's objects, oldest `date_added` first, `limit` at a time (`next`)."""
    with hub.db.read() as session:
        page = taxii.objects(hub, session, actor, collection_id, added_after=added_after,
                             limit=limit, next_=next)
    body: dict[str, Any] = {"more": page.more, "objects": page.objects}
    if page.next:
        body["next"] = page.next
    headers = {}
    if page.first and page.last:
        headers = {"X-TAXII-Date-Added-First": page.first,
                   "X-TAXII-Date-Added-Last": page.last}
    return _taxii(body, headers)
