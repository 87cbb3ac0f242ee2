"""Response models of the API's own objects: who is asking, versions, imports, threads,
proposals, decisions, acknowledgements, notifications, audit entries and people.

Every object is closed (`additionalProperties: false`); ids are opaque.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .reports import Closed, ProvisionView

Stance = Literal["concur", "non-concur", "reservation"]


class Me(Closed):
    username: str
    partner: str
    role: Literal["viewer", "planner", "admin"]


class SignedIn(Closed):
    username: str
    partner: str
    csrf: str = Field(description="send it as X-CSRF-Token on every write with this session")


class Created(Closed):
    id: str


class NewVersion(Closed):
    version: str = Field(description="the new version's opaque id; its ETag is \"VERSION\"")


class Imported(Closed):
    plans: list[str]
    versions: list[str]
    observations: int


class VersionEntry(Closed):
    version: str
    at: str
    partner: str
    status: Literal["draft", "approved", "retired"] | None = Field(
        description="null for a plan seen only through items addressed to the caller")
    reason: str | None = Field(description="the owner's own side only")
    by: str | None = Field(None, description="who made it (a username, or `operator`): the "
                           "owner's own side only")


class Exported(Closed):
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"]
    files: dict[str, str] = Field(description="file name -> YAML, headed with its TLP")


class Subject(Closed):
    kind: Literal["scenario", "plan", "task", "conflict", "gap"]
    ref: str | None = Field(None, description="absent when the caller may not see it")
    hidden: Literal[True] | None = Field(None, description="present when the caller may not "
                                         "see the plan or task the thread is about")


class MessageOut(Closed):
    id: str
    partner: str
    text: str
    share: list[str]
    at: str


class ThreadSummary(Closed):
    id: str
    subject: Subject
    title: str
    partner: str
    share: list[str]
    created: str
    messages: int = Field(description="messages the caller may read")


class ThreadOut(Closed):
    id: str
    subject: Subject
    title: str
    partner: str
    share: list[str]
    created: str
    messages: list[MessageOut]


class MoveStart(Closed):
    kind: Literal["move-start"]
    task: str
    start: str


class SetQuantity(Closed):
    kind: Literal["set-quantity"]
    task: str
    resource: str
    quantity: int


class AddProvision(Closed):
    kind: Literal["add-provision"]
    provision: ProvisionView


class ProposalOut(Closed):
    id: str
    plan: str
    owner: str
    partner: str
    change: Annotated[MoveStart | SetQuantity | AddProvision, Field(discriminator="kind")]
    reason: str
    status: Literal["open", "accepted", "declined", "withdrawn"]
    answer: str | None = Field(description="the new version when accepted; the reason when "
                               "declined")
    created: str
    about: Subject | None = Field(None, description="the conflict or gap it is about, if any")


class ResponseOut(Closed):
    stance: Stance
    note: str
    at: str


class DecisionOut(Closed):
    id: str
    title: str
    text: str
    partner: str
    partners: list[str]
    responses: dict[str, ResponseOut | None] = Field(
        description="partner asked -> its response, null until it responds")
    created: str
    deadline: str | None = Field(description="when the partners asked should answer (UTC)")
    status: Literal["open", "closed"]
    outcome: str | None = Field(description="recorded when the opening partner closes it")
    closed: str | None
    about: Subject | None = Field(None, description="the conflict or gap it is about, if any")


class AcknowledgementOut(Closed):
    expectation: str = Field(description="PLAN/EXPECTATION")
    partner: str
    at: str


class NotificationOut(Closed):
    id: str
    kind: Literal["proposal", "withdrawn", "answer", "decision", "outcome", "thread", "reply",
                  "conflict", "probe", "notice"] = Field(
        description="what to act on or know: a proposal to answer, a decision asked, an "
        "answer to yours, a reply in your thread, a new conflict involving your plans…")
    text: str
    link: str | None = Field(description="the page it is about")
    read: bool = Field(description="read by the caller (each person reads for itself)")
    at: str


class AuditOut(Closed):
    at: str
    action: str
    subject: str
    partner: str | None
    user: str | None = Field(description="the caller's own people only")
    detail: dict[str, str | int | float | bool | list[str] | None] = Field(
        description="what was done, in figures and names: the caller's own side only")


class UserOut(Closed):
    username: str
    partner: str
    role: Literal["viewer", "planner", "admin"]
    disabled: str | None
    created: str | None
    tokens: int = Field(description="live API tokens")


class TokenOut(Closed):
    id: str
    username: str
    name: str
    created: str | None
    revoked: str | None


class PeopleOut(Closed):
    users: list[UserOut]
    tokens: list[TokenOut]


class Stale(Closed):
    """409: the plan changed since the version the write was made from."""

    detail: str
    current: str = Field(description="the plan's current version; its ETag")
    since: list[VersionEntry] = Field(description="the versions stored after the one named, "
                                      "as the caller sees them")
