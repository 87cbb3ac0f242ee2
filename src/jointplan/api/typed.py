"""Answers as their declared response models: a route returns what its schema says."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def one(model: type[M], value: Mapping[str, Any]) -> M:
    """``value`` read as ``model``; the keys it leaves out stay unset (and out of the answer)."""
    return model.model_validate(value)


def many(model: type[M], values: Iterable[Mapping[str, Any]]) -> list[M]:
    """Each of ``values`` read as ``model``."""
    return [model.model_validate(v) for v in values]
