"""Capital allocation on a basket: each symbol's position is sized from its sleeve (weight ×
equity), by equal weight, fixed weights or inverse volatility, under max_weight and per-symbol
caps. Three symbols enter at the same bar, when the account is all cash (30,000), so every
size can be worked out by hand from the candles.

Sizing is fixed fractional with a 50 % stop and 25 % risk per trade: a position is half its
sleeve (the sleeve is sized as if it were the account), so the three entries always fit the
cash and the weights show in the sizes."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from factories import HOUR_MS, START_MS, make_market
from tradebot.backtest.runner import Backtester
from tradebot.config import parse_config
from tradebot.domain.decisions import Decision, SignalAction
from tradebot.domain.errors import ConfigError
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.assembly import build_engine

SYMBOLS = ("AAA/USDT", "BBB/USDT", "CCC/USDT")
VOLATILITY = {"AAA/USDT": 0.004, "BBB/USDT": 0.008, "CCC/USDT": 0.016}
N, ENTRY, WINDOW = 200, 150, 60
CASH = Decimal(30_000)
STRATEGY = (
    Path(__file__).parents[2] / "resources" / "strategies" / "buy_at_bar.py"
).as_posix() + ":BuyAtBar"


def candles() -> dict[str, pd.DataFrame]:
    frames = {}
    for n, (symbol, vol) in enumerate(VOLATILITY.items()):
        rng = np.random.default_rng(40 + n)
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, N)))
        open_ = np.concatenate(([100.0], close[:-1]))
        frames[symbol] = pd.DataFrame(
            {
                "ts_ms": START_MS + HOUR_MS * np.arange(N, dtype=np.int64),
                "open": open_,
                "high": np.maximum(open_, close) * 1.001,
                "low": np.minimum(open_, close) * 0.999,
                "close": close,
                "volume": np.ones(N),
            }
        )
    return frames


CANDLES = candles()


def run(allocation: str) -> dict[str, Decision]:
    """Backtest the basket; each symbol's entry decision."""
    config = parse_config(
        f"""
trading: {{symbols: [{", ".join(SYMBOLS)}], starting_cash: {CASH}}}
strategy: {{name: '{STRATEGY}', params: {{buy_bar: {ENTRY}}}}}
risk:
  max_position_size: 1000000
  max_portfolio_exposure: 1000000
  max_open_positions: 3
  position_sizing_method: fixed_fractional
  risk_per_trade: 0.25
  stop_loss_method: fixed_pct
  stop_loss_pct: 0.5
  allocation: {allocation}
"""
    )
    markets = [make_market(s) for s in SYMBOLS]
    engine = build_engine(
        config, markets[0], Portfolio.with_cash(CASH), record_holds=False, more_markets=markets[1:]
    )
    exchange = SimulatedExchange(markets, {"USDT": CASH}, FeeSchedule())
    result = Backtester(engine, exchange).run_portfolio(CANDLES)
    return {d.symbol: d for d in result.decisions if d.signal.action is SignalAction.BUY}


def bought(decision: Decision) -> Decimal:
    assert decision.action.startswith("buy "), decision.action
    return Decimal(decision.action.split()[1])


def expected_qty(symbol: str, weight: float) -> Decimal:
    """By hand: half the sleeve (30,000 × weight) at the entry bar's close, to the lot step."""
    close = Decimal(repr(float(CANDLES[symbol]["close"][ENTRY])))
    stop = close - close * Decimal("0.5")
    sleeve = CASH * Decimal(f"{weight:.6f}")
    notional = sleeve * Decimal("0.25") / (close - stop) * close
    return (notional / close).quantize(Decimal("0.00001"), ROUND_DOWN)


def sizes(decisions: dict[str, Decision]) -> list[Decimal]:
    return [bought(decisions[s]) for s in SYMBOLS]


def test_no_allocation_sizes_each_entry_from_the_whole_account() -> None:
    decided = run("{method: none}")

    # half of the whole account each: the first two fill, the third no longer fits the cash
    assert sizes(decided)[:2] == [expected_qty(s, 1.0) for s in SYMBOLS[:2]]
    assert "allocation" not in {c.name for c in decided["AAA/USDT"].verdict.checks}  # type: ignore[union-attr]


def test_equal_weight_gives_each_symbol_a_third() -> None:
    decided = run("{method: equal_weight}")

    assert sizes(decided) == [expected_qty(s, 1 / 3) for s in SYMBOLS]
    check = decided["BBB/USDT"].verdict.checks[0]  # type: ignore[union-attr]
    assert check.name == "allocation"
    assert check.detail == (
        "BBB/USDT weight 0.333333 (equal_weight: 1/3) of equity 30000.00 = 9999.99"
    )


def test_fixed_weights_size_each_symbol_by_its_weight() -> None:
    decided = run("{method: fixed_weights, weights: {AAA/USDT: 0.5, BBB/USDT: 0.3, CCC/USDT: 0.2}}")

    assert sizes(decided) == [
        expected_qty("AAA/USDT", 0.5),
        expected_qty("BBB/USDT", 0.3),
        expected_qty("CCC/USDT", 0.2),
    ]


def test_inverse_volatility_weights_from_the_returns_before_the_entry() -> None:
    decided = run(f"{{method: inverse_volatility, volatility_window: {WINDOW}}}")

    sigma = {
        s: np.diff(np.log(CANDLES[s]["close"].to_numpy()[ENTRY - WINDOW : ENTRY + 1])).std()
        for s in SYMBOLS
    }
    inverse = {s: 1 / v for s, v in sigma.items()}
    weights = {s: v / sum(inverse.values()) for s, v in inverse.items()}
    assert weights["AAA/USDT"] > 0.5 > weights["CCC/USDT"]  # the calm symbol gets the most
    default = run("{method: inverse_volatility}")  # over 100 bars: other weights, other sizes
    assert sizes(default) != sizes(decided)
    assert sizes(decided) == [expected_qty(s, weights[s]) for s in SYMBOLS]


def test_max_weight_and_a_symbol_cap_limit_the_weights() -> None:
    decided = run("{method: equal_weight, max_weight: 0.25, caps: {CCC/USDT: 0.1}}")

    assert sizes(decided) == [
        expected_qty("AAA/USDT", 0.25),
        expected_qty("BBB/USDT", 0.25),
        expected_qty("CCC/USDT", 0.1),
    ]
    assert "capped by cap 0.1" in decided["CCC/USDT"].verdict.checks[0].detail  # type: ignore[union-attr]


def test_a_cap_alone_limits_one_symbol_of_an_unallocated_account() -> None:
    decided = run("{caps: {AAA/USDT: 0.2}}")

    assert bought(decided["AAA/USDT"]) == expected_qty("AAA/USDT", 0.2)
    assert bought(decided["BBB/USDT"]) == expected_qty("BBB/USDT", 1.0)


@pytest.mark.parametrize(
    ("allocation", "message"),
    [
        ("{method: equal_weight, weights: {AAA/USDT: 0.5}}", "`weights` is used by method"),
        ("{method: fixed_weights}", "method fixed_weights needs `weights`"),
        ("{method: equal_weight, volatility_window: 50}", "`volatility_window` is used by"),
        ("{method: fixed_weights, weights: {AAA/USDT: 0.7, BBB/USDT: 0.6}}", "weights sum to 1.3"),
        ("{caps: {AAA/USDT: 2}}", r"AAA/USDT: 2 must be > 0 and <= 1"),
    ],
)
def test_misplaced_allocation_key_is_refused(allocation: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(f"risk:\n  allocation: {allocation}\n")


@pytest.mark.parametrize(
    ("allocation", "message"),
    [
        (
            "{method: fixed_weights, weights: {AAA/USDT: 0.5, BBB/USDT: 0.3}}",
            r"`risk.allocation`: weights name AAA/USDT, BBB/USDT; they must name exactly the "
            r"symbols traded: AAA/USDT, BBB/USDT, CCC/USDT",
        ),
        ("{caps: {DOGE/USDT: 0.1}}", r"`risk.allocation`: caps name DOGE/USDT, not traded"),
    ],
)
def test_allocation_naming_other_symbols_is_refused(allocation: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run(allocation)


def test_config_show_of_an_allocation_loads_back_unchanged() -> None:
    config = parse_config(
        "risk:\n  allocation: {method: equal_weight, max_weight: 0.4, caps: {BTC/USDT: 0.2}}\n"
    )

    again = parse_config(yaml.safe_dump(config.model_dump_masked()))

    assert again.risk.allocation == config.risk.allocation
