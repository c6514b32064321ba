"""Request guards: who is asking (from the session cookie) and may they do this.

A route that reads depends on ``viewer``; a control depends on ``operator``. Without users
configured everyone on loopback is an anonymous viewer, and no one is an operator.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from tradebot.monitoring.dashboard.auth import (
    ANONYMOUS_VIEWER,
    SESSION_COOKIE,
    Authenticator,
    Principal,
)


def _auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


def caller(request: Request) -> Principal | None:
    """Who holds the request's session, or None (no cookie, unknown or expired)."""
    return _auth(request).principal(request.cookies.get(SESSION_COOKIE))


def viewer(request: Request) -> Principal:
    """The caller, who may read; 401 when a login is required and there is none."""
    auth = _auth(request)
    found = caller(request)
    if found is not None:
        return found
    if not auth.required:
        return ANONYMOUS_VIEWER
    raise HTTPException(401, "log in first")


def operator(request: Request) -> Principal:
    """The caller, who may use the controls; 401 without a login, 403 for a viewer."""
    auth = _auth(request)
    found = caller(request)
    if found is None:
        why = "log in as an operator" if auth.required else "no users are configured"
        raise HTTPException(401, f"controls need a logged-in operator: {why}")
    if not found.may_operate:
        raise HTTPException(403, f"{found.name} is a viewer: controls need the operator role")
    return found
