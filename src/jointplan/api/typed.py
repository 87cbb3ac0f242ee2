"""Answers as their declared response models: a route returns what its schema says."""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel, TypeAdapter

M = TypeVar("M", bound=BaseModel)


def one(model: type[M], value: Mapping[str, Any]) -> M:
    """``value`` read as ``model``; the keys it leaves out stay unset (and out of the answer)."""
    return model.model_validate(value)


def many(model: type[M], values: Iterable[Mapping[str, Any]]) -> list[M]:
    """Each of ``values`` read as ``model``."""
    return [model.model_validate(v) for v in values]


_KEPT_BYTES = 16 * 2**20
"""JSON kept by `kept_json`, at most (and at most `_KEPT_ANSWERS` answers): each entry also
holds its value alive, and a partner's view of a 10k-task workspace is a megabyte of JSON
and far more as Python objects, so a few stored states' worth."""
_KEPT_ANSWERS = 512
_kept: OrderedDict[tuple[Any, int], tuple[Any, bytes]] = OrderedDict()
_kept_size = [0]
_kept_lock = threading.Lock()


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def kept_json(tp: Any, value: Any) -> bytes:
    """The JSON a route declaring ``tp`` answers for a shared, never-changed ``value``
    (validated, keys left out staying out), written once while it is kept.

    Kept by the value's identity (the server's kept views are shared and never
    changed): the value is held with its JSON, so its id is not reused while the
    entry lives. Only the JSON is kept, not the validated models.
    """
    key = (tp, id(value))
    with _kept_lock:
        found = _kept.get(key)
        if found is not None and found[0] is value:
            _kept.move_to_end(key)
            return found[1]
    adapter = _adapter(tp)
    made = adapter.dump_json(adapter.validate_python(value), by_alias=True, exclude_unset=True)
    with _kept_lock:
        old = _kept.pop(key, None)
        _kept_size[0] += len(made) - (len(old[1]) if old is not None else 0)
        _kept[key] = (value, made)
        while _kept and (_kept_size[0] > _KEPT_BYTES or len(_kept) > _KEPT_ANSWERS):
            _kept_size[0] -= len(_kept.popitem(last=False)[1][1])
    return made


def json_with(model: type[BaseModel], value: Mapping[str, Any], lists: dict[str, bytes]
              ) -> bytes:
    """``model``'s JSON of ``value`` (as `one` reads it) with each top-level key of
    ``lists`` a list already written as JSON (`kept_json`): a large answer made mostly
    of kept parts costs their join, not their validation and writing again.

    The key is found as ``"key":[]`` in the JSON of the rest: in a string a quote is
    escaped, so only a key matches, and the caller's models have no such key nested
    before it (`tests/server/test_kept_answers.py` compares with the plain answer).
    """
    shell = one(model, {**value, **dict.fromkeys(lists, [])}).model_dump_json(
        by_alias=True, exclude_unset=True).encode()
    for key, raw in lists.items():
        marker = json.dumps(key).encode() + b":"
        at = shell.index(marker + b"[]") + len(marker)
        shell = shell[:at] + raw + shell[at + 2:]
    return shell


def json_answer(body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    """An answer already written as JSON (its route still declares its model)."""
    return Response(body, media_type="application/json", headers=headers)
