"""``${ENV_VAR}`` and ``${ENV_VAR:-default}`` in any string value of the parsed YAML.

Rules (as in a POSIX shell and docker compose): ``${NAME:-default}`` uses the default when the
variable is unset or empty; ``$${`` writes a literal ``${``. A value that is exactly one
reference and resolves to the empty string becomes null, so ``api_key: ${KEY:-}`` means
"not set". Every problem is collected, so one run names all missing variables at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_ESCAPE = "$${"
_REFERENCE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?$", re.DOTALL)


@dataclass(slots=True)
class Interpolation:
    """The outcome of resolving a tree: problems found, each naming the variable and key path."""

    problems: list[str] = field(default_factory=list)


def key_path(parent: str, key: object) -> str:
    """Join a key path the way error messages print it: ``risk.atr_period``, ``to_addrs[0]``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def interpolate(
    tree: object, environ: Mapping[str, str], outcome: Interpolation, path: str = ""
) -> object:
    """Return ``tree`` with every reference in its strings resolved from ``environ``."""
    if isinstance(tree, dict):
        return {
            key: interpolate(value, environ, outcome, key_path(path, key))
            for key, value in tree.items()
        }
    if isinstance(tree, list):
        return [
            interpolate(item, environ, outcome, key_path(path, index))
            for index, item in enumerate(tree)
        ]
    if isinstance(tree, str) and "${" in tree:
        return _resolve(tree, environ, outcome, path)
    return tree


def _resolve(
    text: str, environ: Mapping[str, str], outcome: Interpolation, path: str
) -> str | None:
    references = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal references
        if match.group(0) == _ESCAPE:
            return "${"
        if match.group(1) is None:
            outcome.problems.append(f"`{path}`: `${{` is not closed; write ${{NAME}}")
            return match.group(0)
        references += 1
        return _lookup(match.group(1), environ, outcome, path)

    resolved = _TOKEN.sub(replace, text)
    whole = _TOKEN.fullmatch(text) is not None
    if whole and references == 1 and resolved == "":
        return None
    return resolved


def _lookup(inner: str, environ: Mapping[str, str], outcome: Interpolation, path: str) -> str:
    ref = _REFERENCE.match(inner)
    if ref is None:
        outcome.problems.append(
            # The text inside is not echoed: it may be a secret pasted in by mistake.
            f"`{path}`: a ${{...}} reference is malformed; "
            "write ${NAME} or ${NAME:-default} (NAME: letters, digits and _)"
        )
        return ""
    name, default = ref["name"], ref["default"]
    value = environ.get(name)
    if default is not None:
        return value if value else default
    if value is None:
        outcome.problems.append(
            f"`{path}`: environment variable {name} is not set; "
            f"set it, or give a default: ${{{name}:-value}}"
        )
        return ""
    return value
