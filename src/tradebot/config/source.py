"""Read the YAML text of a config: syntax errors name the line, duplicate keys are refused.

PyYAML silently keeps the last of two equal keys; a second ``risk:`` block would then drop
the first one's limits without a word, so duplicates are an error here. Error messages give
the line and column but never echo the offending line, which may hold a secret.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from tradebot.domain.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate and non-text keys."""


def _construct_mapping(loader: yaml.SafeLoader, node: MappingNode) -> dict[object, object]:
    loader.flatten_mapping(node)
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            problem = f"key {key!r} is not text; quote it (YAML reads on/yes/no as true/false)"
            raise ConstructorError(None, None, problem, key_node.start_mark)
        if key in seen:
            problem = f"duplicate key `{key}` (first written on line {seen[key] + 1})"
            raise ConstructorError(None, None, problem, key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_text(path: Path) -> str:
    """Return the file's text, or raise ConfigError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"config file not found: {path}; pass an existing file, or none for the default"
        raise ConfigError(msg) from None
    except UnicodeDecodeError as e:
        msg = f"{path}: not UTF-8 text (byte {e.start}); save the config as UTF-8"
        raise ConfigError(msg) from None
    except OSError as e:
        msg = f"cannot read config file {path}: {e.strerror}"
        raise ConfigError(msg) from None


def parse_yaml(text: str, source: str) -> dict[str, object]:
    """Parse YAML text into a dict of sections; an empty document is an empty dict.

    Raises:
        ConfigError: syntax error (with line and column), duplicate key, or a document that
            is not a mapping of sections.
    """
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as e:
        raise ConfigError(_describe(e, source)) from None
    except yaml.YAMLError as e:
        msg = f"{source}: not valid YAML: {type(e).__name__}"
        raise ConfigError(msg) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        msg = (
            f"{source}: the config must be a mapping of sections (exchange:, trading:, risk:, "
            f"...), not a {type(document).__name__}"
        )
        raise ConfigError(msg)
    return document


def _describe(error: yaml.MarkedYAMLError, source: str) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
    what = error.problem or "syntax error"
    context = f" ({error.context})" if error.context else ""
    return f"{source}: YAML error at {where}: {what}{context}"


def refuse_shared_file(path: Path) -> None:
    """Refuse a secret's file that other users may read (the bus password's too).

    Raises:
        ConfigError: the file is readable by its group or others.
    """
    # Like ssh with private keys: a file others can read is not a secret any more.
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        msg = f"{path}: credentials file is readable by other users; run `chmod 600 {path}`"
        raise ConfigError(msg)
