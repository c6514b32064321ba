"""The base every config section derives from: strict, frozen, and forgiving of empty sections.

Why a shared base: every section must reject unknown keys (a typo must stop the bot, not be
ignored) and be immutable once loaded, and a YAML section whose body is all commented out
(``risk:`` with nothing under it) must mean "all defaults", not a type error.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

#: What every secret looks like when shown.
MASK = "**********"

_URL_PASSWORD = re.compile(
    r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)(?P<pw>[^@]*)(?P<tail>@.*)$"
)


def mask_url_password(url: str) -> str:
    """Return ``url`` with the password between ``user:`` and ``@`` replaced by the mask."""
    match = _URL_PASSWORD.match(url)
    if match is None or not match["pw"]:
        return url
    return f"{match['head']}{MASK}{match['tail']}"


def _is_section_type(annotation: object) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_is_section_type(arg) for arg in typing.get_args(annotation))
    return False


class Section(BaseModel):
    """A block of the YAML config: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    #: Fields whose value is a URL that may carry a password (masked, not hidden, when shown).
    url_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _empty_subsections_mean_defaults(cls, data: Any) -> Any:
        # `sandbox:` with an all-commented body arrives as None; treat it as `{}`.
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if not (
                value is None
                and key in cls.model_fields
                and _is_section_type(cls.model_fields[key].annotation)
            )
        }

    def model_dump_masked(self) -> dict[str, object]:
        """Dump to plain YAML/JSON-ready values with every secret replaced by the mask.

        Decimals become int or float when that is exact and str otherwise; paths and times
        become strings. A URL field keeps everything but its password, so the host and database
        stay visible.
        """
        out: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in self.url_fields and isinstance(value, SecretStr):
                out[name] = mask_url_password(value.get_secret_value())
            else:
                out[name] = plain(value)
        return out

    def secret_values(self) -> list[str]:
        """Every non-empty secret in this section and those inside it (for log masking)."""
        found: list[str] = []
        for name in type(self).model_fields:
            found.extend(_secrets_in(getattr(self, name)))
        return found


def _secrets_in(value: object) -> list[str]:
    if isinstance(value, Section):
        return value.secret_values()
    if isinstance(value, SecretStr):
        return [value.get_secret_value()] if value.get_secret_value() else []
    if isinstance(value, list | tuple):
        return [s for v in value for s in _secrets_in(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _secrets_in(v)]
    return []


def plain(value: object) -> object:
    """Convert one config value to str/int/float/bool/None/list/dict, masking secrets."""
    if isinstance(value, Section):
        return value.model_dump_masked()
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else ""
    if isinstance(value, Decimal):
        return _plain_decimal(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _plain_decimal(value: Decimal) -> int | float | str:
    # Exact where YAML can say it: 1000 stays 1000, 0.02 stays 0.02, anything else stays text.
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)
