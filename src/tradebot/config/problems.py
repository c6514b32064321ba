"""Turn pydantic's validation errors into one message a trader can act on.

For every problem the message names the key path (``risk.risk_per_trade``), the bad value and
what is allowed, worked out from the model itself (Literal choices, numeric bounds) so it can
never drift from the schema. Values of secret fields are shown as the mask, and the values of
unknown keys are never shown at all: a misspelt ``api_secert`` still holds a secret.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import annotated_types
from pydantic import AliasChoices, BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from tradebot.config.base import MASK
from tradebot.config.interpolate import key_path

_BOUNDS = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "<="),
)
_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),
    (int, "a whole number"),
    (float, "a number"),
    (Decimal, "a number"),
    (SecretStr, "text"),
    (str, "text"),
    (Path, "a file path"),
    (datetime, "a date like 2024-01-01 or a time like 2024-01-01T00:00:00Z"),
    (list, "a list"),
    (dict, "a mapping of keys"),
)
_MAX_SHOWN = 60


@dataclass(frozen=True, slots=True)
class _Target:
    parent: type[BaseModel] | None  # the section the last key belongs to
    field: FieldInfo | None
    annotation: object  # the expected type at the error's location
    keys: tuple[int | str, ...] = ()  # the location as written (no union tags)


def describe_errors(error: ValidationError, model: type[BaseModel], source: str) -> str:
    """Return one message listing every problem in ``error``, one line each."""
    lines: list[str] = []
    for detail in error.errors(include_url=False):
        line = _describe(detail, model)
        if line not in lines:
            lines.append(line)
    count = f"{len(lines)} problem" + ("s" if len(lines) > 1 else "")
    body = "\n".join(f"  - {line}" for line in lines)
    return f"{source}: {count} in the config:\n{body}"


def _describe(detail: ErrorDetails, model: type[BaseModel]) -> str:
    loc = detail["loc"]
    target = _target(model, loc)
    path = _path(target.keys)
    if detail["type"] == "missing":
        what = target.field.description if target.field is not None else None
        return f"`{path}` is required" + (f": {what}" if what else "")
    if detail["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        return _union_tag(detail, path, target)
    if detail["type"] == "extra_forbidden":
        return _unknown_key(path, str(loc[-1]), target.parent)
    if detail["type"] in {"model_type", "dict_type", "model_attributes_type"}:
        what = "a section (a mapping of keys)"
        return f"`{path}` = {_shown(detail['input'], target)}: must be {what}"
    if isinstance(detail["input"], dict):
        return f"`{path}`: {_allowed(detail, target)}"
    return f"`{path}` = {_shown(detail['input'], target)}: {_allowed(detail, target)}"


def _union_tag(detail: ErrorDetails, path: str, target: _Target) -> str:
    # A list item whose ``method`` names no known kind, or is missing.
    ctx = detail.get("ctx") or {}
    key = str(ctx.get("discriminator", "method")).strip("'")
    members = _tagged_members(target.annotation) or {}
    allowed = ", ".join(members)
    if detail["type"] == "union_tag_not_found":
        return f"`{path}.{key}` is required: one of {allowed}"
    tag = str(ctx.get("tag"))
    close = difflib.get_close_matches(tag, list(members), n=1, cutoff=0.6)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"`{path}.{key}` = {tag!r}: allowed: {allowed}{hint}"


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path = key_path(path, part)
    return path or "(top level)"


def _unknown_key(path: str, key: str, parent: type[BaseModel] | None) -> str:
    known = list(parent.model_fields) if parent is not None else []
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key `{path}`; did you mean `{close[0]}`?"
    return f"unknown key `{path}`; allowed keys here: {', '.join(known)}"


def _tagged_members(annotation: object) -> dict[str, type[BaseModel]] | None:
    # The models of a union by their ``method`` tag (None: not such a union).
    args = typing.get_args(_unwrap_optional(annotation))
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(models) < 2:
        return None
    tags: dict[str, type[BaseModel]] = {}
    for member in models:
        field = member.model_fields.get("method")
        if field is not None and typing.get_origin(field.annotation) is typing.Literal:
            tags.update((str(tag), member) for tag in typing.get_args(field.annotation))
    return tags


def _target(model: type[BaseModel], loc: Sequence[int | str]) -> _Target:
    parent: type[BaseModel] | None = None
    field: FieldInfo | None = None
    annotation: object = model
    keys: list[int | str] = []
    for part in loc:
        members = _tagged_members(annotation)
        if members is not None and part in members:
            # the tag pydantic puts after an item of a discriminated union
            # (`risk.protections[0].cooldown.stop_duration_bars`): no key a person wrote
            annotation = members[str(part)]
            continue
        keys.append(part)
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            parent = annotation
            field = _field_named(annotation, str(part))
            annotation = field.annotation if field is not None else None
        else:
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
            field = None
    return _Target(parent, field, _unwrap_optional(annotation), tuple(keys))


def _field_named(model: type[BaseModel], name: str) -> FieldInfo | None:
    if name in model.model_fields:
        return model.model_fields[name]
    for field in model.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and name in alias.choices:
            return field
    return None


def _unwrap_optional(annotation: object) -> object:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_secret(target: _Target) -> bool:
    return target.annotation is SecretStr


def _shown(value: object, target: _Target) -> str:
    if _is_secret(target) and value is not None:
        return f"'{MASK}'"
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _allowed(detail: ErrorDetails, target: _Target) -> str:
    ctx = detail.get("ctx") or {}
    if detail["type"] in {"value_error", "assertion_error"} and "error" in ctx:
        return str(ctx["error"])
    if typing.get_origin(target.annotation) is typing.Literal:
        return "allowed: " + ", ".join(str(arg) for arg in typing.get_args(target.annotation))
    kind = _kind(target.annotation)
    if kind is None:
        return detail["msg"]
    bounds = _bounds(target.field)
    text = f"must be {kind}" + (f" {bounds}" if bounds else "")
    if _is_percentage_typo(detail["input"], bounds):
        text += " (a fraction: write 0.02 for 2 %)"
    return text


def _is_percentage_typo(value: object, bounds: str) -> bool:
    # 2 where 0.02 was meant: the commonest mistake with fractions.
    fraction = bounds.endswith(("<= 1", "< 1"))
    return fraction and isinstance(value, int | float) and not isinstance(value, bool) and value > 1


def _kind(annotation: object) -> str | None:
    origin = typing.get_origin(annotation) or annotation
    for kind, words in _KINDS:
        if isinstance(origin, type) and issubclass(origin, kind):
            return words
    return None


def _bounds(field: FieldInfo | None) -> str:
    if field is None:
        return ""
    parts = []
    for meta in field.metadata:
        for kind, attr, sign in _BOUNDS:
            if isinstance(meta, kind):
                parts.append(f"{sign} {_number(getattr(meta, attr))}")
    return " and ".join(parts)


def _number(value: object) -> str:
    if isinstance(value, float | Decimal) and value == int(value):
        return str(int(value))
    return str(value)
