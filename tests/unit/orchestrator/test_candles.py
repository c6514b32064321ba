"""The live candle window: a poll fetches only the new candles, and the window is what a
fetch of the whole window would have returned."""

from __future__ import annotations

from tradebot.domain.market import Candle
from tradebot.orchestrator.candles import CandleWindow, candle_bars, closed_after
from tradebot.strategy.base import Bars

BAR = 60_000


def _bars(first: int, last: int, close: float = 100.0) -> list[Candle]:
    return [Candle(i * BAR, close, close, close, close, 1.0) for i in range(first, last + 1)]


def test_window_first_poll_asks_for_the_whole_window_and_keeps_its_size() -> None:
    window = CandleWindow(5, BAR)
    assert window.limit == 6

    kept = window.replace(_bars(90, 98))

    assert [c.ts_ms // BAR for c in kept] == [94, 95, 96, 97, 98]


def test_window_next_poll_asks_for_the_new_bars_the_overlap_and_the_forming_one() -> None:
    window = CandleWindow(5, BAR)
    window.replace(_bars(90, 98))  # 99 was forming

    # 98 again, 99 closed, 100 forming
    assert window.limit == 3
    kept = window.join(_bars(98, 99))

    assert [c.ts_ms // BAR for c in kept or []] == [95, 96, 97, 98, 99]


def test_window_overlap_takes_the_venues_newest_answer() -> None:
    window = CandleWindow(5, BAR)
    window.replace(_bars(90, 98))

    kept = window.join(_bars(98, 99, close=101.5)) or []

    assert [(c.ts_ms // BAR, c.close) for c in kept[-2:]] == [(98, 101.5), (99, 101.5)]


def test_window_answer_not_reaching_the_newest_kept_is_refused() -> None:
    window = CandleWindow(5, BAR)
    window.replace(_bars(90, 98))

    assert window.join(_bars(100, 101)) is None


def test_window_small_window_never_asks_for_more_than_the_whole() -> None:
    window = CandleWindow(1, BAR)
    window.replace(_bars(90, 98))

    assert window.limit == window.full_limit == 2


def test_window_answer_with_no_closed_candle_keeps_the_window() -> None:
    window = CandleWindow(5, BAR)
    window.replace(_bars(90, 98))

    assert [c.ts_ms // BAR for c in window.join([]) or []] == [94, 95, 96, 97, 98]


def _columns(bars: Bars) -> list[list[float]]:
    return [bars.ts_ms.tolist(), *(bars[name].tolist() for name in bars)]


def test_window_bars_carry_on_and_follow_what_the_venue_answered() -> None:
    # Arrange: a window of 5 kept, its bars asked once
    window = CandleWindow(5, BAR)
    first = window.replace(_bars(90, 98))
    window.bars(first)
    # Act: the next poll (98 again, equal; 99 closed), the same window again, a poll whose
    # answer revised the newest kept candle, and one after a jump of many bars
    carried = window.bars(window.join(_bars(98, 99)) or [])
    again = window.bars(window.join([]) or [])
    revised = window.bars(window.join(_bars(99, 100, close=101.5)) or [])
    jumped = window.bars(window.replace(_bars(200, 220)))
    # Assert: each is what reading every candle gives
    expected = [
        _bars(95, 99),
        _bars(95, 99),
        _bars(96, 98) + _bars(99, 100, close=101.5),
        _bars(216, 220),
    ]
    for got, candles in zip([carried, again, revised, jumped], expected, strict=True):
        assert _columns(got) == _columns(candle_bars(candles))


def test_closed_after_gives_the_candles_newer_than_the_last_decided() -> None:
    closed = _bars(90, 98)
    assert [c.ts_ms // BAR for c in closed_after(closed, 97 * BAR)] == [98]
    assert [c.ts_ms // BAR for c in closed_after(closed, 95 * BAR)] == [96, 97, 98]
    assert closed_after(closed, 98 * BAR) == []
    assert closed_after(closed, None) == closed
    assert closed_after(closed, 10 * BAR) == closed  # decided long before the window
    assert closed_after([], 97 * BAR) == []
