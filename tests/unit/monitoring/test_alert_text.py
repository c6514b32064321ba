"""Alert text for Telegram: every field escaped, long alerts cut within 4,096 characters."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from telegram_standin import check_html
from tradebot.monitoring.alerts.text import email_subject, telegram_parts, utf16_len


def _plain(parts: list[str]) -> str:
    return "".join(html.unescape(p) for p in parts)


def test_telegram_parts_markup_in_fields_is_escaped_and_parses() -> None:
    # Arrange: an exchange error text full of what breaks Telegram's HTML.
    title = "Order failed: <BTC/USDT> & co"
    body = 'venue said: <html><body>Invalid "symbol" & qty < 0.001</body></html>'
    # Act
    parts = telegram_parts("critical", title, body)
    # Assert
    assert len(parts) == 1
    assert check_html(parts[0]) == []
    assert "&lt;html&gt;" in parts[0]
    assert "<b>Order failed: &lt;BTC/USDT&gt; &amp; co</b>" in parts[0]


def test_telegram_parts_long_alert_splits_into_parts_on_line_breaks() -> None:
    body = "\n".join(f"line {i:04d} & <more>" for i in range(500))  # 14,500 escaped
    parts = telegram_parts("info", "Daily summary", body)
    assert len(parts) == 4
    assert parts[0].startswith("(1/4) ")
    assert parts[1].startswith("(2/4)\n")
    assert parts[3].startswith("(4/4)\n")
    assert all(utf16_len(p) <= 4096 and check_html(p) == [] for p in parts)
    assert all(p.endswith("&gt;") for p in parts)  # cut at line ends, not mid-line
    assert "line 0000" in parts[0]
    assert "line 0499" in parts[3]


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab &<>\"'\n😀é"), min_size=0, max_size=12_000),
    st.text(alphabet=st.sampled_from("T &<>😀"), max_size=300),
)
def test_telegram_parts_any_text_fits_parses_and_keeps_every_character(
    body: str, title: str
) -> None:
    parts = telegram_parts("warning", title, body)
    assert all(utf16_len(p) <= 4096 and check_html(p) == [] for p in parts)
    text = _plain(parts)
    kept = "".join(text.split())  # part headers add only whitespace, numbers and the title
    assert "".join(body.split()) in kept.replace("".join(title.split()), "", 1) or not body.strip()


def test_email_subject_line_breaks_never_start_a_header() -> None:
    assert email_subject("critical", "bad\r\nBcc: x@example.com") == (
        "[tradebot critical] bad Bcc: x@example.com"
    )
