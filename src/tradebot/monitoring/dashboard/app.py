"""The dashboard's FastAPI application: pages, login, the REST API and its guards.

Security by default: no CORS headers unless origins are configured (a page on another site
cannot read the API), every state-changing request must carry ``X-Tradebot-Request`` (which a
form on another site cannot add, and a script there cannot send without a CORS preflight that
is refused), the session cookie is HttpOnly and SameSite=Strict, and every page forbids
framing and scripts from elsewhere. OpenAPI is served at ``/api/openapi.json``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files

import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from plotly.offline import get_plotlyjs
from pydantic import BaseModel, Field

from tradebot.config.monitoring import DashboardConfig
from tradebot.monitoring.dashboard import api, controls
from tradebot.monitoring.dashboard.access import viewer
from tradebot.monitoring.dashboard.auth import SESSION_COOKIE, Authenticator, Principal
from tradebot.monitoring.dashboard.events import LogBuffer
from tradebot.monitoring.dashboard.reader import StateReader
from tradebot.state import Repository
from tradebot.state.outbox import AlertOutbox

log = structlog.get_logger("tradebot.dashboard")
REQUEST_HEADER = "X-Tradebot-Request"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    # plotly sets inline styles on the elements it draws; scripts come from this server only
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}
_STATIC = files("tradebot.monitoring.dashboard") / "static"
_ASSETS = {
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}


@dataclass(frozen=True, slots=True)
class DashboardParts:
    """What the application works with: the state, the people, the live log."""

    repo: Repository
    outbox: AlertOutbox
    settings: DashboardConfig
    logs: LogBuffer
    stale_after_s: float


class Login(BaseModel):
    """A login request."""

    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionView(BaseModel):
    """Who the caller is, and whether the dashboard asks for a login."""

    user: str
    role: str
    authenticated: bool
    login_required: bool
    may_operate: bool


def create_app(parts: DashboardParts) -> FastAPI:
    """The application over ``parts`` (one per dashboard; nothing global)."""
    closing = asyncio.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        closing.set()

    app = FastAPI(
        title="tradebot dashboard",
        summary="Positions, orders, trades, equity, decisions and controls of a tradebot.",
        version="1",
        docs_url=None,  # the interactive pages load scripts from a CDN; the JSON is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    settings = parts.settings
    app.state.auth = Authenticator(settings.users, settings.session_ttl_s)
    app.state.reader = StateReader(parts.repo, parts.outbox, parts.stale_after_s)
    app.state.logs, app.state.poll_s, app.state.closing = (
        parts.logs,
        settings.poll_interval_s,
        closing,
    )
    app.state.confirmations = controls.Confirmations()
    app.middleware("http")(_guard)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=[REQUEST_HEADER, "Content-Type"],
        )
    app.include_router(_session_router())
    app.include_router(api.router)
    app.include_router(controls.router)
    _add_pages(app)
    return app


async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    if request.method not in _SAFE_METHODS and request.headers.get(REQUEST_HEADER) != "1":
        return JSONResponse(
            {"detail": f"state-changing requests need the header {REQUEST_HEADER}: 1"}, 403
        )
    response = await call_next(request)
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _session_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["session"])

    @router.post("/login")
    async def login(body: Login, request: Request, response: Response) -> SessionView:
        """Log in; the session cookie lasts ``session_ttl_s``."""
        auth: Authenticator = request.app.state.auth
        token = await asyncio.to_thread(auth.login, body.name, body.password)
        if token is None:
            locked = auth.is_locked(body.name)
            log.warning(
                "dashboard login refused", user=body.name, client=_client(request), locked=locked
            )
            if locked:
                raise HTTPException(429, "too many wrong passwords: try again in 5 minutes")
            raise HTTPException(401, "wrong name or password")
        response.set_cookie(
            SESSION_COOKIE, token, max_age=auth.ttl_s, httponly=True, samesite="strict", path="/"
        )
        who = auth.principal(token)
        assert who is not None  # just opened
        log.info("dashboard login", user=who.name, role=who.role.value, client=_client(request))
        return _session(who, auth)

    @router.post("/logout")
    async def logout(request: Request, response: Response) -> dict[str, str]:
        """End the session."""
        request.app.state.auth.logout(request.cookies.get(SESSION_COOKIE, ""))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return {"detail": "logged out"}

    @router.get("/session")
    async def session(request: Request) -> SessionView:
        """Who the caller is; ``login_required`` tells the page to show the login form."""
        auth: Authenticator = request.app.state.auth
        try:
            who = viewer(request)
        except HTTPException:
            return SessionView(
                user="", role="", authenticated=False, login_required=True, may_operate=False
            )
        return _session(who, auth)

    return router


def _session(who: Principal, auth: Authenticator) -> SessionView:
    return SessionView(
        user=who.name,
        role=who.role.value,
        authenticated=who.authenticated,
        login_required=auth.required,
        may_operate=who.may_operate,
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _add_pages(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse((_STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly_js() -> Response:
        return Response(get_plotlyjs(), media_type="text/javascript")

    @app.get("/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise HTTPException(404, "no such file")
        return Response((_STATIC / name).read_text(encoding="utf-8"), media_type=_ASSETS[name])
