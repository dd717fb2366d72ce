"""`ocrmp web` run for real over HTTP: where it may listen, the token, CSRF, the changes a
person makes, and hostile documents drawn without taking the console down."""

from __future__ import annotations

import http.cookies
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrmp.exitcodes import ExitCode
from ocrmp.vocabulary import CANCELLED
from tests.acceptance.test_cli_db import ocrmp, one_line_error
from tests.console import Answer, Queue, console, request, row, seed
from tests.hostile import hidden_giants, stroke_bomb, stroke_pages

TOKEN = "a-token-of-twenty-four-c"


@pytest.fixture
def queue(dsn: str, tmp_path: Path) -> Queue:
    return seed(dsn, tmp_path / "storage")


def csrf_pair(url: str) -> tuple[str, str]:
    """A CSRF cookie from the console and the form value that goes with it."""
    answer = request(f"{url}/review")
    cookie = http.cookies.SimpleCookie(answer.headers["set-cookie"])["ocrmp_csrf"].value
    form = re.search(rb'name="csrf" value="([^"]+)"', answer.body)
    assert form is not None and form.group(1).decode() == cookie
    return cookie, cookie


def post(url: str, csrf: str | None, cookie: str | None, **fields: str) -> Answer:
    data = dict(fields) | ({"csrf": csrf} if csrf is not None else {})
    headers = {"Cookie": f"ocrmp_csrf={cookie}"} if cookie else {}
    return request(url, data=data, headers=headers)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.org"])
def test_an_address_beyond_loopback_without_a_token_is_refused(dsn: str, tmp_path: Path,
                                                               host: str) -> None:
    done = ocrmp(dsn, tmp_path, "web", "--host", host, "--port", "1")
    assert done.returncode == ExitCode.CONFIG
    assert "OCRMP_WEB_TOKEN" in one_line_error(done)


def test_a_short_token_is_refused(dsn: str, tmp_path: Path) -> None:
    done = ocrmp(dsn, tmp_path, "web", "--host", "0.0.0.0", "--port", "1",
                 env={"OCRMP_WEB_TOKEN": "short"})
    assert done.returncode == ExitCode.CONFIG
    one_line_error(done)


def test_with_a_token_a_request_without_it_gets_401_and_changes_nothing(
        dsn: str, tmp_path: Path, queue: Queue) -> None:
    before = row(dsn, queue.flagged)
    with console(dsn, tmp_path, env={"OCRMP_WEB_TOKEN": TOKEN}) as web:
        assert request(f"{web.url}/").status == 401
        assert request(f"{web.url}/jobs/{queue.flagged}").status == 401
        page = request(f"{web.url}/jobs/{queue.flagged}/pages/1.png")
        assert page.status == 401 and not page.body.startswith(b"\x89PNG")
        cookie = http.cookies.SimpleCookie(
            request(f"{web.url}/login").headers["set-cookie"])["ocrmp_csrf"].value
        for action in ("accept", "requeue", "cancel"):
            refused = post(f"{web.url}/jobs/{queue.flagged}/{action}", cookie, cookie,
                           env="dev")
            assert refused.status == 401
        wrong = request(f"{web.url}/", headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
        assert wrong.status == 401
        assert row(dsn, queue.flagged) == before
        right = request(f"{web.url}/", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status == 200 and b"FLAG-2" not in right.body


def test_the_login_form_sets_a_session_that_is_not_the_token(dsn: str, tmp_path: Path,
                                                             queue: Queue) -> None:
    with console(dsn, tmp_path, env={"OCRMP_WEB_TOKEN": TOKEN}) as web:
        cookie = http.cookies.SimpleCookie(
            request(f"{web.url}/login").headers["set-cookie"])["ocrmp_csrf"].value
        assert post(f"{web.url}/login", cookie, cookie, token="wrong" * 5).status == 401
        login = post(f"{web.url}/login", cookie, cookie, token=TOKEN)
        assert login.status == 303
        session = http.cookies.SimpleCookie(login.headers["set-cookie"])["ocrmp_session"].value
        assert TOKEN not in session
        answer = request(f"{web.url}/jobs/{queue.flagged}",
                         headers={"Cookie": f"ocrmp_session={session}"})
        assert answer.status == 200 and b"FLAG-2" in answer.body


def test_a_post_without_the_csrf_token_is_refused(dsn: str, tmp_path: Path,
                                                  queue: Queue) -> None:
    before = row(dsn, queue.flagged)
    with console(dsn, tmp_path) as web:
        cookie, _ = csrf_pair(web.url)
        target = f"{web.url}/jobs/{queue.flagged}/requeue"
        assert post(target, None, cookie, env="dev").status == 403
        assert post(target, "x" * 43, cookie, env="dev").status == 403
        assert post(target, cookie, None, env="dev").status == 403
        assert row(dsn, queue.flagged) == before
        assert post(target, cookie, cookie, env="dev").status == 303
        assert row(dsn, queue.flagged)["status_id"] == 3


def test_every_answer_carries_the_security_headers(dsn: str, tmp_path: Path,
                                                   queue: Queue) -> None:
    with console(dsn, tmp_path) as web:
        for path in ("/", f"/jobs/{queue.done}", "/jobs?status=4", "/review",
                     f"/jobs/{queue.done}/pages/1.png", "/static/console.js"):
            headers = {k.lower(): v for k, v in request(f"{web.url}{path}").headers.items()}
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert "script-src 'self'" in headers["content-security-policy"], path
            assert headers["x-content-type-options"] == "nosniff", path


def test_no_page_shows_the_dsn_or_the_storage_path(dsn: str, tmp_path: Path,
                                                   queue: Queue) -> None:
    with console(dsn, tmp_path) as web:
        for path in ("/", "/live/overview", f"/jobs/{queue.flagged}", "/jobs", "/review"):
            body = request(f"{web.url}{path}").body.decode()
            assert "postgresql://" not in body and str(tmp_path) not in body, path
            assert "flagged.pdf" not in body, path


def test_cancel_sends_a_document_to_error_with_the_cancelled_kind(
        dsn: str, tmp_path: Path, queue: Queue) -> None:
    with console(dsn, tmp_path) as web:
        cookie, _ = csrf_pair(web.url)
        assert post(f"{web.url}/jobs/{queue.ready}/cancel", cookie, cookie, env="dev",
                    by="marie").status == 303
        moved = row(dsn, queue.ready)
        assert moved["status_id"] == 4
        assert moved["ocr_error"].split(": ")[0] == CANCELLED
        listed = request(f"{web.url}/jobs?env=dev&status=4&error={CANCELLED}").body
        assert b"READY-5" in listed and b"FAIL-4" not in listed


def test_accept_is_refused_for_a_document_not_flagged(dsn: str, tmp_path: Path,
                                                      queue: Queue) -> None:
    with console(dsn, tmp_path) as web:
        cookie, _ = csrf_pair(web.url)
        answer = post(f"{web.url}/jobs/{queue.done}/accept", cookie, cookie, env="dev")
        assert answer.status == 409


def test_a_job_id_that_is_not_a_uuid_is_not_found(dsn: str, tmp_path: Path,
                                                  queue: Queue) -> None:
    with console(dsn, tmp_path) as web:
        assert request(f"{web.url}/jobs/..%2F..%2Fetc").status == 404
        assert request(f"{web.url}/jobs/1;DROP").status == 404


# As `ocrmp ocr` meets them (test_cli_ocr.py): strokes that draw for minutes are stopped
# by the page timeout, the bomb's two million strokes by the renderer's memory cap, the
# giant images by the megapixel cap before they are decoded.
@pytest.mark.parametrize(("document", "timeout", "kind"), [
    (lambda: stroke_pages(1, 100_000), 2, "render_timeout"),
    (stroke_bomb, 60, "page_too_complex"),
    (hidden_giants, 60, "image_too_large"),
])
def test_a_hostile_pdf_ends_in_an_error_image_and_the_console_keeps_answering(
        dsn: str, tmp_path: Path, queue: Queue, document: Callable[[], bytes], timeout: int,
        kind: str) -> None:
    storage = tmp_path / "storage"
    (storage / "acte" / "flagged.pdf").write_bytes(document())
    with console(dsn, tmp_path, env={"OCRMP_PAGE_TIMEOUT": str(timeout)}) as web:
        drawn = request(f"{web.url}/jobs/{queue.flagged}/pages/1.png?env=dev")
        assert drawn.status == 200 and drawn.body.startswith(b"\x89PNG")
        assert {k.lower(): v for k, v in drawn.headers.items()}["x-ocrmp-error-kind"] == kind
        assert request(f"{web.url}/").status == 200
        fine = request(f"{web.url}/jobs/{queue.done}/pages/1.png?env=dev")
        assert fine.body.startswith(b"\x89PNG")
        assert "x-ocrmp-error-kind" not in {k.lower() for k in fine.headers}


def test_the_overview_shows_the_fleet_from_redis(dsn: str, tmp_path: Path, queue: Queue,
                                                 redis_url: str) -> None:
    import time

    from ocrmp.fleet import FleetRegistry, PoolInfo, WorkerInfo, redis_client

    registry = FleetRegistry(redis_client(redis_url), refresh_interval_s=60)
    assert registry.publish(
        PoolInfo(host="host-a", pool="ocr", pid=4242, size=2, modes={"acte": 2},
                 version="9.9", started_at=time.time() - 7200, environments=["dev"]),
        [WorkerInfo(slot=0, pid=4243, mode="acte", phase="busy", job_id=queue.ready,
                    job_env="dev", document_number="READY-5", memory_bytes=150 * 2**20),
         WorkerInfo(slot=1, pid=4244, mode="acte", phase="idle")])
    with console(dsn, tmp_path, env={"REDIS_URL": redis_url}) as web:
        body = request(f"{web.url}/live/overview").body.decode()
    assert "host-a/ocr" in body and "pid 4242" in body and "up 2.0h" in body
    assert f'href="/jobs/{queue.ready}?env=dev">READY-5</a>' in body
    assert "150 MB" in body and "idle" in body


def test_the_jobs_list_pages_on_by_the_last_id_shown(dsn: str, tmp_path: Path,
                                                     queue: Queue) -> None:
    from tests.integration.test_diagnose import insert

    insert(dsn, 60, status_id=3, document_number="bulk")
    with console(dsn, tmp_path) as web:
        first = request(f"{web.url}/jobs?env=dev&status=3").body.decode()
        more = re.search(r'class="next" href="([^"]+)"', first)
        assert more is not None
        second = request(web.url + more.group(1).replace("&amp;", "&")).body.decode()
    shown = [re.findall(r'<tr data-job="([^"]+)"', page) for page in (first, second)]
    assert (len(shown[0]), len(shown[1])) == (50, 11)
    assert not set(shown[0]) & set(shown[1])
    assert 'class="next"' not in second


def test_what_a_document_says_is_shown_as_text_never_as_markup(dsn: str, tmp_path: Path,
                                                               queue: Queue) -> None:
    from tests.integration.test_diagnose import insert

    markup = '<script>alert("x")</script>'
    [job_id] = insert(dsn, status_id=4, document_number=markup,
                      ocr_error=f"corrupt_document: {markup}")
    with console(dsn, tmp_path) as web:
        for path in (f"/jobs/{job_id}?env=dev", "/jobs?env=dev&status=4"):
            body = request(f"{web.url}{path}").body.decode()
            assert markup not in body and "&lt;script&gt;" in body, path
