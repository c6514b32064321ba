"""The persisted controls a person uses on a running bot: stop, stop entries, flatten, resume.

``tradebot stop``/``resume`` and the Telegram commands call these and nothing else: they only
write the control state, which the running bot reads at its next cycle (it is never touched
directly). ``source`` says who asked (``tradebot stop``, ``telegram user 42``) and becomes
the kill switch's reason.
"""

from __future__ import annotations

from tradebot.domain.decisions import KillSwitch
from tradebot.orchestrator.continuity import FLATTEN_REQUEST
from tradebot.state.repository import Repository


def stop_trading(repo: Repository, source: str, flatten: bool = False) -> None:
    """Kill switch HALTED (no new orders; stops stay); with ``flatten`` also sell everything."""
    with repo.transaction() as tx:
        tx.set_kill_switch(KillSwitch.HALTED, source)
        if flatten:
            tx.set_control(FLATTEN_REQUEST, "1")


def stop_entries(repo: Repository, source: str) -> None:
    """Kill switch REDUCING: only orders that cut exposure (exits, stops) are sent."""
    repo.set_kill_switch(KillSwitch.REDUCING, source)


def request_flatten(repo: Repository) -> None:
    """Cancel every order and sell the positions at market at the next cycle."""
    repo.set_control(FLATTEN_REQUEST, "1")


def resume_trading(repo: Repository, source: str) -> str:
    """Kill switch ACTIVE, any flatten request withdrawn; returns what it was, with why."""
    previous, reason = repo.kill_switch(), repo.kill_switch_reason()
    with repo.transaction() as tx:
        tx.set_kill_switch(KillSwitch.ACTIVE, source)
        tx.set_control(FLATTEN_REQUEST, "0")
    return f"{previous}" + (f" ({reason})" if reason else "")


def flatten_requested(repo: Repository) -> bool:
    """True while a flatten request waits for the bot's next cycle."""
    return repo.get_control(FLATTEN_REQUEST) == "1"
