"""The console's guards: where it may listen, who may ask, what a change must carry, and the
headers every answer gets. Decisions are pure functions; `Guard` applies them to requests.

- Loopback by default; any other address only with a token (OCRMP_WEB_TOKEN).
- With a token, every request but the login form's carries it: a cookie the login sets
  (an HMAC of the token, never the token itself) or an `Authorization: Bearer` header.
  Without it: 401, nothing read, nothing changed.
- Every change is a POST whose form carries the CSRF token of the browser's cookie
  (double submit: another site can make a browser send the cookie, never read it).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from ocrmp.errors import ConfigError

TOKEN_VARIABLE = "OCRMP_WEB_TOKEN"
SESSION_COOKIE = "ocrmp_session"
CSRF_COOKIE = "ocrmp_csrf"
CSRF_FIELD = "csrf"
# A token shorter than this is guessable over the network.
MIN_TOKEN_CHARS = 16
# Paths open without the token: the login form and what it is drawn with.
LOGIN_PATH = "/login"
STATIC_PREFIX = "/static/"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether `host` only ever reaches this machine (127/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_bind(host: str, token: str | None) -> None:
    """ConfigError unless the console may listen on `host` with this token."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"{TOKEN_VARIABLE} must be at least {MIN_TOKEN_CHARS} characters "
                          "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe())'`)")
    if not is_loopback(host) and token is None:
        raise ConfigError(f"the web console listens on {host}, beyond this machine, only with "
                          f"a token: set {TOKEN_VARIABLE}, or leave --host at 127.0.0.1")


def session_value(token: str) -> str:
    """What the session cookie holds: derived from the token, so the cookie is not it."""
    return hmac.new(token.encode(), b"ocrmp web session", hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    """Constant-time equality; a missing value is never equal."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def authorised(token: str | None, cookie: str | None, header: str | None) -> bool:
    """Whether a request may be answered: no token set, or it carries the token."""
    if token is None:
        return True
    bearer = header[len("Bearer "):] if header and header.startswith("Bearer ") else None
    return same(cookie, session_value(token)) or same(bearer, token)


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


class Guard(BaseHTTPMiddleware):
    """The token, the CSRF cookie and the headers, around every request."""

    def __init__(self, app: Callable, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        open_path = path == LOGIN_PATH or path.startswith(STATIC_PREFIX)
        if not open_path and not authorised(self.token, request.cookies.get(SESSION_COOKIE),
                                            request.headers.get("authorization")):
            response: Response = _unauthorised(request)
        else:
            response = await call_next(request)
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(CSRF_COOKIE, request.state.csrf if hasattr(
                request.state, "csrf") else new_csrf(), httponly=True, samesite="strict")
        response.headers.update(HEADERS)
        return response


def _unauthorised(request: Request) -> Response:
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return Response('<!doctype html><meta charset="utf-8"><title>ocrmp</title>'
                        '<p>This console asks for its token: <a href="/login">log in</a>.',
                        status_code=401, media_type="text/html")
    return Response("token required\n", status_code=401, media_type="text/plain")


def csrf_of(request: Request) -> str:
    """The browser's CSRF token, or a new one that the answer will set as its cookie."""
    current = request.cookies.get(CSRF_COOKIE)
    if current:
        return current
    if not hasattr(request.state, "csrf"):
        request.state.csrf = new_csrf()
    return str(request.state.csrf)
