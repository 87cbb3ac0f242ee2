"""Request bodies: strict (unknown fields are 422 naming the field).

Responses are modelled in reports.py (the kernels' JSON) and responses.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportIn(Strict):
    files: dict[str, str] = Field(description="file name -> YAML or JSON text", min_length=1)
    reason: str = Field("imported", max_length=5000)
    base_versions: dict[str, str] | None = Field(
        None, description="plan id -> the version the file was made from; a plan changed "
        "since is refused with 409")


class StatusIn(Strict):
    status: Literal["draft", "approved", "retired"]
    reason: str = Field(min_length=1, max_length=5000)
    base_version: str | None = Field(None, max_length=64, description="the version the "
                                     "change was made from (or send If-Match)")


class ObservationIn(Strict):
    indicator: str = Field(min_length=1, max_length=128)
    seen: bool
    at: str | None = Field(None, description="ISO 8601 with a zone; default now",
                           max_length=64)
    share: Literal["all"] | list[str] | None = None


class SubjectIn(Strict):
    kind: Literal["scenario", "plan", "task", "conflict", "gap"]
    ref: str = Field(min_length=1, max_length=300)


class AboutIn(Strict):
    """The lasting conflict or gap a proposal or decision is about."""

    kind: Literal["conflict", "gap"]
    ref: str = Field(min_length=1, max_length=64)


class ThreadIn(Strict):
    subject: SubjectIn
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=20000)
    share: list[str] = Field(default_factory=list)


class MessageIn(Strict):
    text: str = Field(min_length=1, max_length=20000)
    share: list[str] | None = None


class ProposalIn(Strict):
    plan: str = Field(min_length=1, max_length=128)
    change: dict[str, Any] = Field(description="{kind: move-start|set-quantity|add-provision,"
                                   " ...}")
    reason: str = Field(min_length=1, max_length=5000)
    about: AboutIn | None = None


class DeclineIn(Strict):
    reason: str = Field(min_length=1, max_length=5000)


class AcceptIn(Strict):
    reason: str | None = Field(None, max_length=5000)


class DecisionIn(Strict):
    title: str | None = Field(None, max_length=300, description="default: the text's first "
                              "line")
    text: str = Field(min_length=1, max_length=20000)
    deadline: str | None = Field(None, max_length=64, description="ISO 8601 with a zone")
    partners: list[str] = Field(min_length=1)
    about: AboutIn | None = None


class ResponseIn(Strict):
    stance: Literal["concur", "non-concur", "reservation"]
    note: str = Field("", max_length=5000)


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
