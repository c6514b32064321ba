"""Binance's error answer: an HTTP status plus ``{"code", "msg"}``."""

from __future__ import annotations

INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."


class ApiError(Exception):
    """A refusal the sandbox answers as Binance would; the handler turns it into JSON."""

    def __init__(
        self, code: int, msg: str, status: int = 400, data: dict[str, object] | None = None
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.data = data
        """What each part of a request of several did (a cancel-replace's results)."""

    def body(self) -> dict[str, object]:
        """The JSON body Binance sends."""
        body: dict[str, object] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


def bad_param(name: str, problem: str = "was empty") -> ApiError:
    """A missing or malformed parameter (-1102 / -1100)."""
    if problem == "was empty":
        return ApiError(
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return ApiError(-1100, f"Illegal characters found in parameter '{name}'; {problem}.")
