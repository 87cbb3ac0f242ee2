"""The one sharing gate: every output for a partner is decided and cut here."""

from .rules import Decision, Rules

__all__ = ["Decision", "Rules"]
