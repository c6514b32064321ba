"""VenueClock: a poll's clock carried forward from the last poll's reading, never ahead of it
by more than this machine's monotonic time since the answer, and asked first when stale."""

from __future__ import annotations

from tradebot.orchestrator.venue_clock import VenueClock


class Venue:
    """The venue's clock (the one call VenueClock makes), counting the calls."""

    def __init__(self) -> None:
        self.now_ms = 1_700_000_000_000
        self.calls = 0

    async def fetch_time(self) -> int:
        self.calls += 1
        return self.now_ms


async def test_venue_clock_carries_the_reading_forward_and_reads_first_when_stale() -> None:
    # Arrange: a venue and a monotonic clock the test moves
    venue, mono = Venue(), [100.0]
    clock = VenueClock(venue, lambda: mono[0])  # type: ignore[arg-type]
    # Act / Assert: the first poll asks first (no reading), and gives its reading back
    assert await clock.poll_started(10.0) == venue.now_ms
    assert venue.calls == 1
    await clock.poll_ended()
    assert venue.calls == 1
    # 2.5 s later (the venue's clock 2.5 s on too): carried forward, asked at the end
    mono[0] += 2.5
    venue.now_ms += 2_500
    assert await clock.poll_started(10.0) == venue.now_ms
    assert venue.calls == 1
    await clock.poll_ended()
    assert venue.calls == 2
    # a poll that fails before its end leaves no reading: the next one asks first
    mono[0] += 1.0
    venue.now_ms += 1_000
    await clock.poll_started(10.0)
    assert await clock.poll_started(10.0) == venue.now_ms
    assert venue.calls == 3
    await clock.poll_ended()
    # a reading older than the age allowed is asked again first
    mono[0] += 11.0
    venue.now_ms += 11_000 - 40  # the venue's clock runs slower: the reading catches it
    assert await clock.poll_started(10.0) == venue.now_ms
    assert venue.calls == 4
