"""Alert text for each channel: escaped, and cut to the channel's size.

Telegram takes at most 4,096 characters a message, counted after its HTML is parsed, in
UTF-16 code units; unescaped ``<``, ``>`` or ``&`` in any field (a pair name, an exchange's
error text) makes it refuse the whole message with 400. So every dynamic field is escaped,
and a long alert is cut into parts on line breaks where it can, never inside an escape, each
part measured as escaped text (longer than what Telegram counts, so always within its limit).
"""

from __future__ import annotations

import html

from tradebot.domain.alerts import Severity

TELEGRAM_LIMIT = 4096
_ICON = {
    Severity.CRITICAL: "\U0001f6a8",
    Severity.WARNING: "\u26a0\ufe0f",
    Severity.INFO: "\u2139\ufe0f",
}
_PART_PREFIX_RESERVE = 16  # "(99/99) " and a line break, with room to spare


def escape(text: str) -> str:
    """``text`` safe inside Telegram HTML (``<``, ``>``, ``&`` and quotes)."""
    return html.escape(text, quote=True)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def telegram_parts(severity: str, title: str, body: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The HTML messages one alert becomes: a bold, escaped title, then the escaped body,
    cut into parts of at most ``limit`` code units; parts after the first say ``(k/n)``."""
    icon = next((i for s, i in _ICON.items() if s.value == severity), "")
    header = f"{icon} <b>{escape(title)}</b>\n".lstrip()
    if (
        utf16_len(header) > limit // 2
    ):  # a title that long is cut, not allowed to crowd out the body
        header = f"<b>{_cut_escaped(escape(title), limit // 2)[0]}</b>\n"
    chunks = _split(escape(body), limit - utf16_len(header) - _PART_PREFIX_RESERVE)
    total = len(chunks)
    parts = [header + chunks[0]]
    parts += [f"({i}/{total})\n{chunk}" for i, chunk in enumerate(chunks[1:], start=2)]
    if total > 1:
        parts[0] = f"(1/{total}) " + parts[0]
    return parts


def reply_parts(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A command's plain-text answer as escaped HTML messages within ``limit``."""
    return _split(escape(text), limit)


def _split(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    while utf16_len(text) > limit:
        chunk, text = _cut_escaped(text, limit)
        chunks.append(chunk)
    chunks.append(text)
    return chunks


def _cut_escaped(text: str, limit: int) -> tuple[str, str]:
    # The longest head within ``limit`` UTF-16 units, ending at a line break or space when
    # one is in its second half, and never inside an escape such as ``&amp;``.
    end, units = 0, 0
    for char in text:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        end += 1
    head = text[:end]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        end = amp
    for sep in ("\n", " "):
        at = text.rfind(sep, 0, end)
        if at > end // 2:
            return text[: at + 1].rstrip("\n"), text[at + 1 :]
    return text[:end], text[end:]


def email_subject(severity: str, title: str) -> str:
    """A one-line subject: line breaks in a field never start a new header."""
    flat = " ".join(title.split())
    return f"[tradebot {severity}] {flat}"[:200]
