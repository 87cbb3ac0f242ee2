"""The route a peer node pulls its release from; authenticated by the peer's signature.

No user signs in here: the caller is a peer node, known by the Ed25519 key
its operator added (`jointplan node peers add`), and the answer is what the
sharing gate releases to that peer, signed by this node (server/federation/).
A refusal (``NodeError``) is a 403 naming the field, from the one handler in
api/app.py.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from ..server.federation.deconflict import answer_psi, answer_refine, answer_result
from ..server.federation.sync import answer
from .deps import HubDep
from .reports import Closed
from .schemas import Strict

router = APIRouter(prefix="/node", tags=["federation"])


class ReleaseRequest(Strict):
    from_: str = Field(alias="from", max_length=8, description="the asking peer's partner")
    to: str = Field(max_length=8, description="this node's partner")
    at: str = Field(max_length=40, description="when it asked (ISO 8601 with a zone)")
    nonce: str = Field(max_length=64, description="fresh for each request")
    key: str = Field(max_length=64, description="the asking node's public key (hex)")
    signature: str = Field(max_length=128, description="Ed25519 over the canonical JSON of "
                           "the other fields (keys sorted, no spaces)")


class ReleaseOut(Closed):
    bundle: str = Field(description="the signed release, as canonical JSON text")


class Refusal(Closed):
    detail: str


@router.post("/releases", response_model=ReleaseOut,
             responses={403: {"model": Refusal, "description": "not a peer, or its request "
                              "is not signed by its active key, stale or replayed"}})
def release(hub: HubDep, request: ReleaseRequest) -> ReleaseOut:
    """The signed release for the peer that signed the request."""
    return ReleaseOut(bundle=answer(hub, request.model_dump(by_alias=True)))


class Envelope(Strict):
    from_: str = Field(alias="from", max_length=8)
    to: str = Field(max_length=8)
    at: str = Field(max_length=40)
    nonce: str = Field(max_length=64)
    key: str = Field(max_length=64)
    signature: str = Field(max_length=128)


class PsiRequest(Envelope):
    request: str = Field(max_length=16_000_000, description="the asker's blinded tokens "
                         "(openmined-psi Request, base64)")


class PsiRefine(PsiRequest):
    run: str = Field(max_length=32, description="the run message 1 started")
    met: list[tuple[Literal["capacity", "area"], str, str, int]] = Field(
        max_length=100_000, description="the coarse buckets that met: kind, scenario, "
        "place, first minute of the day")


class PsiAnswer(Closed):
    run: str
    setup: str = Field(description="the answerer's blinded tokens (ServerSetup, base64)")
    response: str = Field(description="the asker's tokens blinded again (Response, base64)")


class CollisionModel(Strict):
    kind: Literal["capacity", "area"]
    scenario: str = Field(max_length=128)
    place: str = Field(max_length=128)
    start: int
    end: int
    overflow: int


class PsiResult(Envelope):
    run: str = Field(max_length=32)
    collisions: list[CollisionModel] = Field(max_length=100_000)


class PsiLogged(Closed):
    run: str = Field(description="the run, logged on the answering node")


@router.post("/psi", response_model=PsiAnswer,
             responses={403: {"model": Refusal, "description": "not a peer, a bad signature, "
                              "or too many runs in the last hour"}})
def psi_request(hub: HubDep, request: PsiRequest) -> PsiAnswer:
    """Private deconfliction, message 1 (coarse pass): blinded tokens in, the answerer's
    blinded set out."""
    return PsiAnswer.model_validate(answer_psi(hub, request.model_dump(by_alias=True)))


@router.post("/psi/refine", response_model=PsiAnswer,
             responses={403: {"model": Refusal, "description": "not a peer, a bad signature, "
                              "no such run awaiting it, or not as many tokens as the buckets "
                              "that met take"}})
def psi_refine(hub: HubDep, request: PsiRefine) -> PsiAnswer:
    """Private deconfliction, message 2: the fine pass where coarse buckets met."""
    return PsiAnswer.model_validate(answer_refine(hub, request.model_dump(by_alias=True)))


@router.post("/psi/result", response_model=PsiLogged,
             responses={403: {"model": Refusal, "description": "not a peer, a bad signature, "
                              "or no such run"}})
def psi_result(hub: HubDep, request: PsiResult) -> PsiLogged:
    """Private deconfliction, message 3: the collisions found in; only "logged" out."""
    return PsiLogged.model_validate(answer_result(hub, request.model_dump(by_alias=True)))
