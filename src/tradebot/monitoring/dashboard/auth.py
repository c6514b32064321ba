"""Who may see the dashboard and who may use its controls: passwords, sessions and roles.

Passwords are checked against Argon2id hashes (argon2-cffi); the dashboard never sees or
stores a password in clear beyond the login request. A login opens a short-lived session
(``session_ttl_s``), held in memory only: restarting the dashboard logs everyone out, and a
session token is never written to disk or to a log. The token travels in an HttpOnly,
SameSite=Strict cookie, so page scripts cannot read it and other sites cannot send it.

Two roles: a ``viewer`` reads, an ``operator`` may also stop and resume the bot. With no users
configured the dashboard only listens on loopback, everyone there is a viewer, and the
controls are refused.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tradebot.config.monitoring import DashboardUser

SESSION_COOKIE = "tradebot_session"
MAX_FAILURES = 5
LOCKOUT_MS = 300_000


class Role(StrEnum):
    """What a person may do: read, or read and operate the controls."""

    VIEWER = "viewer"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Principal:
    """The person behind a request."""

    name: str
    role: Role
    authenticated: bool

    @property
    def may_operate(self) -> bool:
        """True for a logged-in operator: only they may use the controls."""
        return self.authenticated and self.role is Role.OPERATOR


ANONYMOUS_VIEWER = Principal("anonymous", Role.VIEWER, authenticated=False)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` with argon2-cffi's recommended cost."""
    return PasswordHasher().hash(password)


@dataclass(slots=True)
class _Session:
    principal: Principal
    expires_ms: int


class Authenticator:
    """Checks passwords and keeps the open sessions (in memory)."""

    def __init__(
        self,
        users: Sequence[DashboardUser],
        session_ttl_s: int,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        """Accept ``users``; a session lasts ``session_ttl_s`` from its login."""
        self._users = {u.name: u for u in users}
        self._ttl_ms = session_ttl_s * 1000
        self._now_ms = now_ms
        self._sessions: dict[str, _Session] = {}
        self._failures: dict[str, list[int]] = {}  # name -> times of recent wrong passwords
        self._hasher = PasswordHasher()
        # Checked when the name is unknown, so a wrong name costs as long as a wrong password
        # (a real user's hash: the same cost, and the result is thrown away).
        self._decoy = users[0].password_hash.get_secret_value() if users else None

    @property
    def required(self) -> bool:
        """True when users are configured: every request then needs a session."""
        return bool(self._users)

    @property
    def ttl_s(self) -> int:
        """How long a session lasts."""
        return self._ttl_ms // 1000

    def is_locked(self, name: str) -> bool:
        """True after ``MAX_FAILURES`` wrong passwords for ``name`` within ``LOCKOUT_MS``.

        Guessing is slowed to a handful of tries per name every five minutes; the right
        password is refused too while the name is locked.
        """
        now = self._now_ms()
        recent = [t for t in self._failures.get(name, []) if now - t < LOCKOUT_MS]
        self._failures[name] = recent
        return len(recent) >= MAX_FAILURES

    def login(self, name: str, password: str) -> str | None:
        """Open a session for a right name and password; return its token, else None."""
        if self.is_locked(name):
            return None
        token = self._check(name, password)
        if token is None:
            now = self._now_ms()
            if len(self._failures) > 1000:  # names guessed at random must not grow it forever
                self._failures = {
                    n: times
                    for n, times in self._failures.items()
                    if times and now - times[-1] < LOCKOUT_MS
                }
            self._failures.setdefault(name, []).append(now)
        return token

    def _check(self, name: str, password: str) -> str | None:
        user = self._users.get(name)
        stored = user.password_hash.get_secret_value() if user is not None else self._decoy
        if stored is None:
            return None  # no users: nobody logs in
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        self._drop_expired()
        token = secrets.token_urlsafe(32)
        principal = Principal(user.name, Role(user.role), authenticated=True)
        self._sessions[token] = _Session(principal, self._now_ms() + self._ttl_ms)
        return token

    def logout(self, token: str) -> None:
        """End the session ``token`` (nothing when unknown)."""
        self._sessions.pop(token, None)

    def principal(self, token: str | None) -> Principal | None:
        """Who holds ``token``; None when it is unknown or expired."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if session.expires_ms <= self._now_ms():
            del self._sessions[token]
            return None
        return session.principal

    def _drop_expired(self) -> None:
        now = self._now_ms()
        for token in [t for t, s in self._sessions.items() if s.expires_ms <= now]:
            del self._sessions[token]
