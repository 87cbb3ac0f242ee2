"""Read one YAML 1.2 (core schema) or JSON document with the position of every value.

libyaml's event parser does the scanning in C; the values are built here from
its events so that we control what hostile input can do: explicit tags are
refused (nothing is ever constructed from a tag), duplicate keys are errors,
nesting is bounded, aliases are counted by the size they expand to, and
scalars are resolved by the YAML 1.2 core schema (``NO`` stays a string).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_EXPANSION = 1_000_000

Pos = tuple[int, int]


class YMap(dict[Any, Any]):
    """A mapping with the 1-based position of itself, its keys and its values."""

    __slots__ = ("pos", "keypos", "valpos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.keypos: dict[Any, Pos] = {}
        self.valpos: dict[Any, Pos] = {}


class YList(list[Any]):
    """A sequence with the 1-based position of itself and each item."""

    __slots__ = ("pos", "itempos")

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.itempos: list[Pos] = []


class ReadError(Exception):
    """The document cannot be read at all; carries a 1-based position."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


_TOO_DEEP = (f"nesting deeper than {MAX_DEPTH} levels; nothing in the format nests more "
             "than a few, so flatten the data")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True,
          "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_NUMBER_START = frozenset("0123456789+-.")
_PLAIN_TAGS = {None, "!", "tag:yaml.org,2002:str"}
_CONTAINER_TAGS = {
    MappingStartEvent: {None, "tag:yaml.org,2002:map"},
    SequenceStartEvent: {None, "tag:yaml.org,2002:seq"},
}


_RESOLVED: dict[str, Any] = {}


def resolve_cached(text: str) -> Any:
    try:
        return _RESOLVED[text]
    except KeyError:
        value = resolve_plain(text)
        if len(_RESOLVED) < 65536 and value == value:  # not NaN
            _RESOLVED[text] = value
        return value


def resolve_plain(text: str) -> Any:
    """The value of a plain scalar under the YAML 1.2 core schema."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text[0] in _NUMBER_START:
        if _INT.fullmatch(text):
            return int(text)
        if _OCT.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
        if _FLOAT.fullmatch(text):
            return float(text)
        if _INF.fullmatch(text):
            return float("-inf") if text[0] == "-" else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


def decode(data: bytes) -> str:
    """UTF-8 text, or a ReadError at the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        # Columns count characters, as libyaml's do; the line up to the bad byte is valid.
        column = len(head[head.rfind(b"\n") + 1:].decode("utf-8")) + 1
        raise ReadError(line, column, "the file is not UTF-8 text "
                        f"(byte 0x{data[exc.start]:02x}); save it as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_file(path: Path) -> Any:
    """The single document in the file at ``path``; ReadError (or OSError) when it cannot be.

    The size is checked before reading, so an oversized file costs no memory.
    """
    with path.open("rb") as stream:
        _check_size(os.fstat(stream.fileno()).st_size)
        data = stream.read(MAX_FILE_BYTES + 1)
    return read_document(data, is_json=path.suffix == ".json")


def _check_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ReadError(1, 1, f"the file is {size:,} bytes; the limit is "
                        f"{MAX_FILE_BYTES:,}. Split it into several files")


def read_document(data: bytes, *, is_json: bool = False) -> Any:
    """The single document in ``data`` as YMap/YList/scalars; ReadError when it cannot be."""
    _check_size(len(data))
    text = decode(data)
    if is_json:
        _check_json(text)
    try:
        return _build(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or ""
        if "nesting depth" in problem:  # libyaml's own bound, met while scanning ahead
            raise ReadError(line, column, _TOO_DEEP) from None
        raise ReadError(line, column, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml reports marks for all it finds
        raise ReadError(1, 1, f"not valid YAML: {exc}") from None


def _check_json(text: str) -> None:
    """Refuse what is not JSON; the YAML pass then builds it, locating duplicate keys."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(exc.lineno, exc.colno, f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        pass  # the YAML pass locates where the nesting passes the limit


def _pos(event: Any) -> Pos:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1)


def _build(text: str) -> Any:  # noqa: C901 - one loop over the event stream reads best whole
    loader = yaml.CSafeLoader(text)
    try:
        get = loader.get_event
        stack: list[Any] = []  # containers being filled
        keys: list[Any] = []  # for mappings: the pending key, or _NO_KEY
        anchors: dict[str, tuple[Any, int]] = {}
        anchored: list[tuple[str, int] | None] = []  # per open container: its anchor, start count
        count = 0
        expansion = 0
        root: Any = _NO_KEY
        documents = 0
        while True:
            event: Any = get()
            cls = event.__class__
            if cls is ScalarEvent:
                count += 1
                if event.tag not in _PLAIN_TAGS:
                    raise ReadError(*_pos(event), f"the tag {event.tag} is not allowed; "
                                    "remove it (files hold plain data only)")
                if event.tag is None and event.implicit[0]:
                    value = resolve_cached(event.value)
                else:
                    value = event.value
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                pos = None
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                count += 1
                if event.tag not in _CONTAINER_TAGS[cls]:
                    raise ReadError(*_pos(event), f"the tag {event.tag} is not allowed; "
                                    "remove it (files hold plain data only)")
                if len(stack) >= MAX_DEPTH:
                    raise ReadError(*_pos(event), _TOO_DEEP)
                mark = event.start_mark
                cpos = (mark.line + 1, mark.column + 1)
                container = YMap(cpos) if cls is MappingStartEvent else YList(cpos)
                _attach(stack, keys, container, cpos)
                stack.append(container)
                keys.append(_NO_KEY)
                anchored.append((event.anchor, count) if event.anchor is not None else None)
                continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                value = stack.pop()
                keys.pop()
                mark = anchored.pop()
                if mark is not None:
                    anchors[mark[0]] = (value, count - mark[1] + 1)
                if stack:
                    continue
                root = value
                continue
            elif cls is AliasEvent:
                if event.anchor not in anchors:
                    raise ReadError(*_pos(event), f"the alias *{event.anchor} names no anchor")
                value, size = anchors[event.anchor]
                count += size
                expansion += size
                if expansion > MAX_ALIAS_EXPANSION:
                    raise ReadError(*_pos(event), "aliases expand this document beyond "
                                    f"{MAX_ALIAS_EXPANSION:,} values; write the data out")
                pos = None
            elif cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise ReadError(*_pos(event), "a file holds one document; "
                                    "split the others into files of their own")
                continue
            elif cls is StreamEndEvent:
                break
            elif cls is StreamStartEvent or cls is DocumentEndEvent:
                continue
            else:  # pragma: no cover - libyaml emits no other events
                raise ReadError(*_pos(event), "unexpected YAML content")
            if stack:
                top = stack[-1]
                if pos is None:
                    mark = event.start_mark
                    pos = (mark.line + 1, mark.column + 1)
                if top.__class__ is YList:
                    top.append(value)
                    top.itempos.append(pos)
                    continue
                key = keys[-1]
                if key is not _NO_KEY and key.__class__ is str:
                    top[key] = value
                    top.valpos[key] = pos
                    keys[-1] = _NO_KEY
                    continue
                if key is _NO_KEY and value.__class__ is str and value not in top:
                    keys[-1] = value
                    top.keypos[value] = pos
                    continue
                _attach(stack, keys, value, pos)
            else:
                root = value
        if root is _NO_KEY:
            raise ReadError(1, 1, "the file is empty; it must start with `jointplan: 1`")
        return root
    finally:
        loader.dispose()


class _NoKey:
    __slots__ = ()


_NO_KEY: Any = _NoKey()


def _attach(stack: list[Any], keys: list[Any], value: Any, pos: Pos) -> None:
    if not stack:
        return
    top = stack[-1]
    if top.__class__ is YList:
        top.append(value)
        top.itempos.append(pos)
        return
    key = keys[-1]
    if key is _NO_KEY:
        if isinstance(value, YMap | YList):
            raise ReadError(*pos, "a key must be a plain word, not a mapping or list")
        if isinstance(value, float) or value is None:
            value = "null" if value is None else str(value)
        if value in top:
            first = top.keypos[value]
            raise ReadError(*pos, f"the key {value!r} is repeated (first at line {first[0]}); "
                            "keys must be unique")
        keys[-1] = value
        top.keypos[value] = pos
        return
    top[key] = value
    top.valpos[key] = pos
    keys[-1] = _NO_KEY
