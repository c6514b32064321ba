"""The controls: stop entries, stop, flatten, resume, each asked for and then confirmed.

A control is two requests: ``POST /api/controls/{action}`` answers with a one-time token and
a plain statement of what will happen; ``POST /api/controls/confirm`` with that token (by the
same operator, within ``CONFIRM_TTL_S``) carries it out through
``orchestrator.controls.apply_control``, the same code ``tradebot stop``/``resume`` use,
which writes the persisted control state the bot reads at each cycle and one audit row. The
running engine is never touched. A viewer who asks is refused, and the refusal is audited.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from tradebot.monitoring.dashboard.access import caller, operator, viewer
from tradebot.monitoring.dashboard.auth import Principal
from tradebot.orchestrator.controls import (
    ControlAction,
    ControlOutcome,
    Operator,
    apply_control,
    record_refusal,
)
from tradebot.state import Repository

CONFIRM_TTL_S = 60
router = APIRouter(prefix="/api/controls", tags=["controls"])
_PROMPTS = {
    ControlAction.STOP_ENTRIES: "Stop entries: the bot opens no new positions; exits and "
    "protective stops go on.",
    ControlAction.STOP: "Stop: the bot sends no new orders; protective stops already resting stay.",
    ControlAction.FLATTEN: "Flatten: the bot cancels every order and sells every position at "
    "market at its next cycle, then stays stopped.",
    ControlAction.RESUME: "Resume: the bot trades normally again from its next cycle.",
}


@dataclass(frozen=True, slots=True)
class _Pending:
    action: ControlAction
    user: str
    expires: float


class Confirmations:
    """Controls asked for and not yet confirmed (in memory; one-time tokens)."""

    def __init__(self) -> None:
        """Start with none pending."""
        self._pending: dict[str, _Pending] = {}

    def ask(self, action: ControlAction, user: str) -> str:
        """A token that confirms ``action`` for ``user`` within ``CONFIRM_TTL_S``."""
        now = time.monotonic()
        self._pending = {t: p for t, p in self._pending.items() if p.expires > now}
        token = secrets.token_urlsafe(16)
        self._pending[token] = _Pending(action, user, now + CONFIRM_TTL_S)
        return token

    def take(self, token: str, user: str) -> ControlAction | None:
        """The action ``token`` confirms for ``user`` (once); None if unknown or expired."""
        pending = self._pending.pop(token, None)
        if pending is None or pending.user != user or pending.expires <= time.monotonic():
            return None
        return pending.action


class Asked(BaseModel):
    """A control waiting for its confirmation."""

    action: str
    token: str
    prompt: str
    expires_in_s: int


class Confirm(BaseModel):
    """The confirmation of a control asked for."""

    token: str


class Done(BaseModel):
    """What a confirmed control did."""

    action: str
    kill_switch_before: str
    kill_switch_after: str
    flatten_requested: bool
    message: str


class AuditEntry(BaseModel):
    """One row of the control audit trail."""

    ts_ms: int
    actor: str
    role: str
    channel: str
    client: str
    action: str
    outcome: str
    kill_switch_before: str
    kill_switch_after: str
    detail: str


def _repo(request: Request) -> Repository:
    repo: Repository = request.app.state.reader.repo
    return repo


def _who(principal: Principal, request: Request) -> Operator:
    client = request.client.host if request.client else ""
    return Operator(principal.name, principal.role.value, "dashboard", client)


@router.get("/audit")
async def audit(
    request: Request,
    _who_: Annotated[Principal, Depends(viewer)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[AuditEntry]:
    """The newest control actions (done and refused), newest first."""
    found = await asyncio.to_thread(_repo(request).control_actions, limit)
    return [AuditEntry.model_validate(r, from_attributes=True) for r in found]


@router.post("/confirm")
async def confirm(
    body: Confirm, request: Request, principal: Annotated[Principal, Depends(operator)]
) -> Done:
    """Carry out the control a token from ``POST /api/controls/{action}`` stands for."""
    confirmations: Confirmations = request.app.state.confirmations
    action = confirmations.take(body.token, principal.name)
    if action is None:
        raise HTTPException(409, "nothing to confirm: the request expired or was used; ask again")
    who = _who(principal, request)
    done: ControlOutcome = await asyncio.to_thread(apply_control, _repo(request), action, who)
    return Done(
        action=done.action.value,
        kill_switch_before=done.before.value,
        kill_switch_after=done.after.value,
        flatten_requested=done.flatten_requested,
        message=done.message,
    )


@router.post("/{action}")
async def ask(action: ControlAction, request: Request) -> Asked:
    """Ask for a control; nothing changes until ``POST /api/controls/confirm``."""
    principal = caller(request)
    if principal is not None and not principal.may_operate:
        why = f"{principal.name} is a viewer: controls need the operator role"
        await asyncio.to_thread(
            record_refusal, _repo(request), action, _who(principal, request), why
        )
    principal = operator(request)  # raises 401/403 for anyone but a logged-in operator
    confirmations: Confirmations = request.app.state.confirmations
    return Asked(
        action=action.value,
        token=confirmations.ask(action, principal.name),
        prompt=_PROMPTS[action],
        expires_in_s=CONFIRM_TTL_S,
    )
