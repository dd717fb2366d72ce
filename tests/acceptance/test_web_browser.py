"""`ocrmp web` driven in a real headless Chromium (Debian's chromium and chromium-driver,
through selenium): what a person sees and does. A screenshot of each page is kept under
OCRMP_TEST_ARTEFACTS when set, else under this test's pytest temporary directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.console import Queue, console, row, seed
from tests.integration.test_diagnose import insert

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Long enough for any machine; a page that shows sooner ends the wait sooner.
WAIT_S = 30


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1400"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    except WebDriverException as error:
        pytest.fail(f"headless Chromium does not start (make test installs chromium and "
                    f"chromium-driver): {error.msg}")
    yield driver
    driver.quit()


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    where = Path(os.environ.get("OCRMP_TEST_ARTEFACTS") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
def queue(dsn: str, tmp_path: Path) -> Queue:
    return seed(dsn, tmp_path / "storage")


def shot(browser: WebDriver, where: Path, name: str) -> None:
    path = where / f"web-{name}.png"
    assert browser.save_screenshot(str(path))
    assert path.read_bytes().startswith(b"\x89PNG")


def cell(browser: WebDriver, kind: str, status: str) -> str:
    return browser.find_element(
        By.CSS_SELECTOR, f'#env-dev tr[data-kind="{kind}"] td[data-status="{status}"]').text


def wait_for(browser: WebDriver, css: str) -> WebElement:
    return WebDriverWait(browser, WAIT_S).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, css))


def test_the_overview_shows_the_counts_and_follows_the_queue_live(
        browser: WebDriver, dsn: str, tmp_path: Path, queue: Queue, artefacts: Path) -> None:
    with console(dsn, tmp_path) as web:
        browser.get(f"{web.url}/")
        assert (cell(browser, "acte", "done"), cell(browser, "acte", "error"),
                cell(browser, "acte", "ready"), cell(browser, "index", "done")) == (
            "2", "1", "1", "1")
        assert cell(browser, "acte", "flagged") == "1"
        failures = browser.find_element(By.CSS_SELECTOR, 'li[data-error-kind="corrupt_document"]')
        assert failures.find_element(By.CSS_SELECTOR, ".n").text == "1"
        flagged = browser.find_element(By.CSS_SELECTOR, 'li[data-flag="low_confidence"]')
        assert flagged.find_element(By.CSS_SELECTOR, ".n").text == "1"
        assert browser.find_elements(By.CSS_SELECTOR, "#env-dev svg.chart rect.bar")
        shot(browser, artefacts, "overview")
        browser.execute_script("window.notReloaded = true")
        insert(dsn, 2, status_id=3)
        WebDriverWait(browser, WAIT_S).until(lambda _: cell(browser, "acte", "ready") == "3")
        assert browser.execute_script("return window.notReloaded") is True


def test_the_failed_job_is_listed_with_its_error_kind(
        browser: WebDriver, dsn: str, tmp_path: Path, queue: Queue, artefacts: Path) -> None:
    with console(dsn, tmp_path) as web:
        browser.get(f"{web.url}/jobs")
        browser.find_element(By.CSS_SELECTOR, 'select[name="status"] option[value="4"]').click()
        browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
        failed = wait_for(browser, f'tr[data-job="{queue.failed}"]')
        assert failed.find_element(By.CSS_SELECTOR, ".status").text == "error"
        assert failed.find_element(By.CSS_SELECTOR, ".error").text.startswith(
            "corrupt_document: ")
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-job]")) == 1
        shot(browser, artefacts, "jobs")
        failed.find_element(By.CSS_SELECTOR, "a").click()
        outcomes = wait_for(browser, "table.attempts")
        assert [td.text for td in outcomes.find_elements(By.CSS_SELECTOR, ".outcome")] == [
            "retry", "failed"]
        shot(browser, artefacts, "failed-job")


def test_the_flagged_page_shows_its_image_its_words_and_its_flag(
        browser: WebDriver, dsn: str, tmp_path: Path, queue: Queue, artefacts: Path) -> None:
    with console(dsn, tmp_path) as web:
        browser.get(f"{web.url}/jobs/{queue.flagged}?env=dev")
        first = browser.find_element(By.CSS_SELECTOR, "#page-1")
        image = first.find_element(By.CSS_SELECTOR, "img.thumb")
        WebDriverWait(browser, WAIT_S).until(
            lambda _: browser.execute_script("return arguments[0].complete", image))
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
        assert [f.text for f in first.find_elements(By.CSS_SELECTOR, ".flag")] == [
            "low_confidence"]
        assert len(first.find_elements(By.CSS_SELECTOR, "svg.boxes rect")) == 2
        second = browser.find_element(By.CSS_SELECTOR, "#page-2")
        assert not second.find_elements(By.CSS_SELECTOR, ".flag")
        assert not second.find_elements(By.CSS_SELECTOR, "svg.boxes")
        shot(browser, artefacts, "flagged-job")
        browser.get(f"{web.url}/jobs/{queue.ledger}?env=dev")
        rows = browser.find_element(By.CSS_SELECTOR, "#page-1 table.rows")
        assert "Tremblay à Gagnon" in rows.text
        shot(browser, artefacts, "ledger-job")


def test_accept_and_requeue_work_and_a_post_without_csrf_is_refused(
        browser: WebDriver, dsn: str, tmp_path: Path, queue: Queue, artefacts: Path) -> None:
    with console(dsn, tmp_path) as web:
        browser.get(f"{web.url}/review?env=dev")
        listed = browser.find_element(By.CSS_SELECTOR, f'tr[data-job="{queue.flagged}"]')
        shot(browser, artefacts, "review")
        listed.find_element(By.CSS_SELECTOR, 'button[value="accept"]').click()
        WebDriverWait(browser, WAIT_S).until(
            lambda _: not browser.find_elements(By.CSS_SELECTOR,
                                                f'tr[data-job="{queue.flagged}"]'))
        assert row(dsn, queue.flagged)["status_id"] == 5
        browser.get(f"{web.url}/jobs/{queue.flagged}?env=dev")
        assert browser.find_element(By.CSS_SELECTOR, ".accepted").text.startswith("by ")

        browser.get(f"{web.url}/jobs/{queue.failed}?env=dev")
        browser.find_element(By.CSS_SELECTOR, 'button[value="requeue"]').click()
        status = wait_for(browser, '.status[data-status="3"]')
        assert status.text == "ready"
        assert row(dsn, queue.failed)["status_id"] == 3
        shot(browser, artefacts, "requeued-job")

        before = row(dsn, queue.done)
        answer = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {method: 'POST', body: 'env=dev',"
            " headers: {'Content-Type': 'application/x-www-form-urlencoded'}})"
            ".then(r => done(r.status), e => done(String(e)));",
            f"/jobs/{queue.done}/requeue")
        assert answer == 403
        assert row(dsn, queue.done) == before
