"""Say why a bot is halted and what lets it trade again.

A bot whose kill switch is HALTED sends no orders. A paper replay that started halted used
to replay its bars, run no cycle and exit 0, with nothing saying why or what to do. The
shell now asks here after the start (and after a replay) and stops with this message.
"""

from __future__ import annotations

from tradebot.state import KillSwitchLevel, Repository

_RECONCILIATION = "reconciliation"


def halt_message(repo: Repository, resume_command: str, fresh_command: str | None) -> str | None:
    """Why the bot is HALTED and the command that fixes it; None when it is not halted.

    ``fresh_command`` (a paper session's start-over) is offered when reconciliation halted
    it: a paper account that disagrees with its database is better started over than
    resumed on the exchange's figures.
    """
    if repo.kill_switch() is not KillSwitchLevel.HALTED:
        return None
    reason = repo.kill_switch_reason() or "no reason saved"
    found = len(repo.reconciliation_events())
    text = f"the kill switch is HALTED ({reason}): the bot sends no orders."
    if _RECONCILIATION in reason and found:
        text += f" {found} reconciliation differences were logged and saved in the database."
        if fresh_command is not None:
            return f"{text} `{fresh_command}` starts the paper account over"
        return f"{text} Check them against the exchange, then `{resume_command}`"
    return f"{text} `{resume_command}` lets it trade again"
