"""A partner's people, as its admin reads them (the operator's CLI sees everyone's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..services.accounts import Actor, list_tokens, list_users
from ..sharing import actions
from .hub import allow


def of_partner(session: Session, actor: Actor) -> dict[str, Any]:
    """The users of the actor's own partner and their API tokens; admins only."""
    allow(actions.may_administer(actor.role))
    return {"users": list_users(session, partner=actor.partner),
            "tokens": list_tokens(session, partner=actor.partner)}
