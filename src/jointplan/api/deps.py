"""The API's dependencies: who is asking (shared with the pages, in ``jointplan.caller``)."""

from ..caller import CSRF_HEADER, SESSION_COOKIE, CurrentActor, HubDep, current_actor, get_hub

__all__ = ["CSRF_HEADER", "SESSION_COOKIE", "CurrentActor", "HubDep", "current_actor",
           "get_hub"]
