"""The ``venue`` fixture: the contract suite runs once per ExchangeConnector implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from contract_venues import VenueHarness, ccxt_sandbox, simulated


@pytest.fixture(params=["ccxt-sandbox", "simulated"])
async def venue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VenueHarness]:
    source = ccxt_sandbox(tmp_path) if request.param == "ccxt-sandbox" else simulated()
    async for harness in source:
        yield harness
