"""RiskController: each check refuses with its reason; exits are never blocked by limits."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from tradebot.domain.decisions import RiskCheck, RiskVerdict
from tradebot.risk.controller import (
    KillSwitch,
    OrderProposal,
    RiskController,
    RiskLimits,
    RiskState,
)

D = Decimal
LIMITS = RiskLimits(
    max_position_size=D(1000),
    max_portfolio_exposure=D(1500),
    max_daily_loss=D(200),
    max_open_positions=1,
)


def state(
    position: str = "0",
    exposure: str = "0",
    open_positions: int = 0,
    equity: str = "10000",
    day_start: str = "10000",
    kill: KillSwitch = KillSwitch.ACTIVE,
) -> RiskState:
    return RiskState(D(equity), D(exposure), D(position), open_positions, D(day_start), kill)


def entry(notional: str) -> OrderProposal:
    return OrderProposal("BTC/USDT", D(notional), reduces_exposure=False)


EXIT = OrderProposal("BTC/USDT", D(0), reduces_exposure=True)


def test_validate_trade_within_limits_approves_with_every_check() -> None:
    verdict = RiskController(LIMITS).validate_trade(entry("999"), state())

    assert verdict.approved
    assert verdict.reasons == ()
    assert [c.name for c in verdict.checks] == [
        "kill_switch",
        "max_position_size",
        "max_portfolio_exposure",
        "max_daily_loss",
        "max_open_positions",
    ]


@pytest.mark.parametrize(
    ("proposal", "risk_state", "reason"),
    [
        (entry("1000.01"), state(), "position 1000.01 > limit 1000"),
        (entry("600"), state(exposure="1000"), "exposure 1600.00 > limit 1500"),
        (entry("100"), state(equity="9800"), "daily PnL -200.00; loss limit 200 reached"),
        (entry("100"), state(exposure="500", open_positions=1), "2 open positions > 1"),
        (entry("100"), state(kill=KillSwitch.HALTED), "kill switch HALTED: no orders are sent"),
        (
            entry("100"),
            state(kill=KillSwitch.REDUCING),
            "kill switch REDUCING: only orders that cut exposure",
        ),
    ],
    ids=["position_size", "exposure", "daily_loss", "open_positions", "halted", "reducing"],
)
def test_validate_trade_breaking_one_limit_rejects_with_its_reason(
    proposal: OrderProposal, risk_state: RiskState, reason: str
) -> None:
    verdict = RiskController(LIMITS).validate_trade(proposal, risk_state)

    assert not verdict.approved
    assert verdict.reasons == (reason,)


def test_validate_trade_position_size_counts_what_is_already_held() -> None:
    verdict = RiskController(LIMITS).validate_trade(entry("300"), state(position="800"))

    assert verdict.reasons == ("position 1100.00 > limit 1000",)


def test_validate_trade_daily_loss_just_inside_limit_passes() -> None:
    verdict = RiskController(LIMITS).validate_trade(entry("100"), state(equity="9800.01"))

    assert verdict.approved


def test_validate_trade_exit_passes_size_and_loss_limits() -> None:
    broken = state(position="5000", exposure="9000", open_positions=3, equity="1000")

    verdict = RiskController(LIMITS).validate_trade(EXIT, broken)

    assert verdict.approved
    assert [c.name for c in verdict.checks] == ["kill_switch"]


def test_validate_trade_exit_while_reducing_passes() -> None:
    verdict = RiskController(LIMITS).validate_trade(EXIT, state(kill=KillSwitch.REDUCING))

    assert verdict.approved


def test_validate_trade_exit_while_halted_is_refused() -> None:
    verdict = RiskController(LIMITS).validate_trade(EXIT, state(kill=KillSwitch.HALTED))

    assert verdict.reasons == ("kill switch HALTED: no orders are sent",)


def test_validate_trade_several_breaks_lists_every_reason() -> None:
    bad = state(exposure="1400", equity="9000", open_positions=1)

    verdict = RiskController(LIMITS).validate_trade(entry("1200"), bad)

    assert len(verdict.reasons) == 4
    assert verdict.reasons[0] == "position 1200.00 > limit 1000"


def test_check_details_read_as_text_and_compare_by_it_after_a_round_trip() -> None:
    verdict = RiskController(LIMITS).validate_trade(entry("999.125"), state(equity="9950.5"))
    written = RiskVerdict(tuple(RiskCheck(c.name, c.passed, c.detail) for c in verdict.checks))

    assert [c.detail for c in verdict.checks] == [
        "kill switch ACTIVE",
        "position 999.12 <= limit 1000",
        "exposure 999.12 <= limit 1500",
        "daily PnL -49.50; loss limit 200",
        "1 open positions <= 1",
    ]
    assert pickle.loads(pickle.dumps(verdict)) == verdict == written
    assert repr(verdict) == repr(written)
