"""The console's pages: Starlette routes rendering Jinja2 templates on the server.

URLs carry job ids, page numbers, environment names and filter values, never a path or
a DSN. Reading routes are GETs; every change is a POST whose form carries the CSRF token.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator, Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ocrmp.config import Settings
from ocrmp.errors import OcrmpError
from ocrmp.status import age_text, fleet_status
from ocrmp.vocabulary import INDEX_FIELDS, Kind, PageFlag, Status
from ocrmp.web import charts
from ocrmp.web.data import DAY, HOUR, PAGE_ROWS, Environment, JobFilter
from ocrmp.web.images import PageImages
from ocrmp.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Guard,
    csrf_of,
    same,
    session_value,
)
from ocrmp.web.snapshot import Snapshot

_JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MAX_FORM_BYTES = 4096
_MAX_NAME = 100
# How often the overview's live part is fetched again, in milliseconds, and how old the
# snapshot it shows may grow before it is taken again.
REFRESH_MS = 5000
OVERVIEW_MAX_AGE_S = 5.0


class Console:
    """What the routes share: the environments' queues, the fleet, the page images."""

    def __init__(self, settings: Settings, token: str | None, operator: str) -> None:
        self.settings = settings
        self.token = token
        self.operator = operator
        self.environments = {env: Environment(env, dsn)
                             for env, dsn in settings.environments.items()}
        self.images = PageImages(settings)
        self.overview: Snapshot[dict[str, Any]] = Snapshot(lambda: _overview(self),
                                                           OVERVIEW_MAX_AGE_S)

    def env(self, name: str | None) -> Environment:
        if name in self.environments:
            return self.environments[name]
        if name is None and self.environments:
            return next(iter(self.environments.values()))
        raise _NotFound(f"no environment {name!r} here")

    def close(self) -> None:
        for environment in self.environments.values():
            environment.close()


class _NotFound(Exception):
    pass


def _status_words(status_id: int) -> str:
    known = Status.of(status_id)
    return known.words if known else f"status {status_id}"


def _templates() -> Jinja2Templates:
    folder = resources.files("ocrmp.web").joinpath("templates")
    templates = Jinja2Templates(directory=str(folder))
    templates.env.globals.update(
        status_words=_status_words, age_text=age_text, statuses=list(Status),
        kinds=list(Kind), flags=list(PageFlag), index_fields=INDEX_FIELDS,
        refresh_ms=REFRESH_MS)
    return templates


class Pages:
    """The routes' endpoints, over one console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.templates = _templates()

    def page(self, request: Request, name: str, context: Mapping[str, Any],
             status_code: int = 200) -> Response:
        return self.templates.TemplateResponse(
            request, name, {"csrf": csrf_of(request), "envs": list(self.console.environments),
                            "operator": self.console.operator, **context},
            status_code=status_code)

    async def overview(self, request: Request) -> Response:
        live = await run_in_threadpool(self.console.overview.get)
        return self.page(request, "overview.html", live)

    async def overview_live(self, request: Request) -> Response:
        live = await run_in_threadpool(self.console.overview.get)
        return self.page(request, "overview_live.html", live)

    async def jobs(self, request: Request) -> Response:
        env, where, after = _job_query(self.console, request.query_params)
        rows = await run_in_threadpool(env.jobs, where, after)
        return self.page(request, "jobs.html", {"env": env.env, "where": where, "rows": rows,
                                                "more": len(rows) == PAGE_ROWS})

    async def job(self, request: Request) -> Response:
        env, job_id = _job_of(self.console, request)
        found = await run_in_threadpool(env.job, job_id)
        if found is None:
            raise _NotFound(f"no job {job_id} in {env.env}")
        attempts = await run_in_threadpool(env.attempts, job_id)
        return self.page(request, "job.html", {"env": env.env, "job": found,
                                               "attempts": attempts,
                                               "pages": _pages(found.get("ocr_result"))})

    async def page_image(self, request: Request) -> Response:
        env, job_id = _job_of(self.console, request)
        number = int(request.path_params["page"])
        found = await run_in_threadpool(env.job, job_id)
        if found is None or not found.get("supabase_path") or number < 1:
            raise _NotFound(f"no page {number} of job {job_id} in {env.env}")
        thumbnail = request.query_params.get("size") != "full"
        drawing = await run_in_threadpool(self.console.images.draw, found["supabase_path"],
                                          number - 1, thumbnail=thumbnail)
        headers = {"X-Ocrmp-Error-Kind": drawing.error_kind} if drawing.error_kind else {}
        return Response(drawing.png, media_type="image/png", headers=headers)

    async def review(self, request: Request) -> Response:
        env = self.console.env(request.query_params.get("env"))
        rows = await run_in_threadpool(env.to_review)
        return self.page(request, "review.html", {"env": env.env, "rows": rows})

    async def change(self, request: Request) -> Response:
        form = await _checked_form(request)
        if form is None:
            return Response("CSRF token missing or wrong\n", status_code=403,
                            media_type="text/plain")
        env, job_id = _job_of(self.console, request, form.get("env"))
        action = request.path_params["action"]
        operator = self.console.operator
        by = (form.get("by") or operator).strip()[:_MAX_NAME] or operator
        if not await run_in_threadpool(_apply, env, action, job_id, by):
            return self.page(request, "message.html", {
                "message": f"{action} of {job_id} in {env.env} did not apply: the document "
                           "moved on (running, or no longer in the state it was shown in)"},
                status_code=409)
        target = "/review" if form.get("back") == "review" else f"/jobs/{job_id}"
        return RedirectResponse(f"{target}?env={env.env}", status_code=303)

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page(request, "login.html", {})
        form = await _checked_form(request)
        token = self.console.token
        if form is None or token is None or not same(form.get("token"), token):
            return self.page(request, "login.html", {"refused": True}, status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session_value(token), httponly=True,
                            samesite="strict")
        return response

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self.page(request, "message.html", {"message": str(exc)}, status_code=404)

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        return self.page(request, "message.html", {"message": str(exc)}, status_code=503)


def create_app(settings: Settings, *, token: str | None, operator: str) -> Starlette:
    console = Console(settings, token, operator)
    pages = Pages(console)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            console.close()

    static = resources.files("ocrmp.web").joinpath("static")
    routes = [
        Route("/", pages.overview),
        Route("/live/overview", pages.overview_live),
        Route("/jobs", pages.jobs),
        Route("/jobs/{job_id}", pages.job),
        Route("/jobs/{job_id}/pages/{page:int}.png", pages.page_image),
        Route("/jobs/{job_id}/{action:str}", pages.change, methods=["POST"]),
        Route("/review", pages.review),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token)],
                     exception_handlers={_NotFound: pages.not_found,
                                         OcrmpError: pages.unavailable},
                     lifespan=lifespan)


def _overview(console: Console) -> dict[str, Any]:
    """Every environment's queue and charts, and the fleet, as the templates show them."""
    environments: dict[str, Any] = {}
    for name, env in console.environments.items():
        try:
            info = env.overview()
        except OcrmpError as error:
            environments[name] = {"reachable": False, "error": str(error)}
            continue
        hour = charts.series(info["hour"], now=info["now"], span_s=HOUR[0], bucket_s=HOUR[2])
        day = charts.series(info["day"], now=info["now"], span_s=DAY[0], bucket_s=DAY[2])
        environments[name] = info | {
            "reachable": True,
            "hour_rate": hour.mean, "day_rate": day.mean,
            "hour_chart": charts.bar_chart(hour, "last hour, per minute", "1 h"),
            "day_chart": charts.bar_chart(day, "last day, per hour", "24 h")}
    return {"environments": environments, "fleet": fleet_status(console.settings.redis_url),
            "now": time.time(), "as_of": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def _job_of(console: Console, request: Request,
            env_name: str | None = None) -> tuple[Environment, str]:
    job_id = str(request.path_params["job_id"]).lower()
    if not _JOB_ID.match(job_id):
        raise _NotFound("a job is named by its id (a UUID)")
    return console.env(env_name or request.query_params.get("env")), job_id


def _choice(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def _job_query(console: Console,
               query: Mapping[str, str]) -> tuple[Environment, JobFilter, str | None]:
    env = console.env(query.get("env") or None)
    status = query.get("status", "")
    after = (query.get("after") or "").lower()
    where = JobFilter(
        status=int(status) if status.isdigit() and Status.of(int(status)) else None,
        kind=_choice(query.get("kind"), [kind.value for kind in Kind]),
        flag=_choice(query.get("flag"), [flag.value for flag in PageFlag]),
        error_kind=(query.get("error") or "").strip()[:_MAX_NAME] or None,
        document_number=(query.get("number") or "").strip()[:_MAX_NAME] or None)
    return env, where, after if _JOB_ID.match(after) else None


async def _checked_form(request: Request) -> dict[str, str] | None:
    """The POST's form fields, or None when its CSRF token is not the browser's cookie's."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return None
    fields = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace"),
                                                         max_num_fields=20).items()}
    if not same(fields.get(CSRF_FIELD), request.cookies.get("ocrmp_csrf") or "\x00missing"):
        return None
    return fields


def _apply(env: Environment, action: str, job_id: str, by: str) -> bool:
    if action == "accept":
        return env.accept(job_id, by)
    if action == "requeue":
        return env.requeue(job_id)
    if action == "cancel":
        return env.cancel(job_id, by)
    raise _NotFound(f"no action {action!r}")


def _pages(result: Any) -> list[dict[str, Any]]:
    """The page results of a job's `ocr_result`, each with the numbers the page shows."""
    if not isinstance(result, dict) or not isinstance(result.get("page_results"), list):
        return []
    pages = []
    for number, entry in enumerate(result["page_results"], 1):
        entry = entry if isinstance(entry, dict) else {}
        layout = entry.get("layout") if isinstance(entry.get("layout"), dict) else None
        pages.append(entry | {"number": number, "words": _word_boxes(layout),
                              "rows": entry.get("rows") if isinstance(entry.get("rows"), list)
                              else None})
    return pages


def _word_boxes(layout: dict[str, Any] | None) -> list[tuple[int, int, int, int, str]]:
    """(x, y, width, height, text) of every word of a page's layout, in its scan's pixels."""
    boxes = []
    lines = layout.get("lines") if layout else None
    for line in lines if isinstance(lines, list) else []:
        words = line.get("words") if isinstance(line, dict) else None
        for word in words if isinstance(words, list) else []:
            try:
                x0, y0, x1, y1 = (int(value) for value in word[:4])
            except (TypeError, ValueError):
                continue
            text = str(word[5]) if len(word) > 5 else ""
            boxes.append((x0, y0, max(x1 - x0, 1), max(y1 - y0, 1), text))
    return boxes


