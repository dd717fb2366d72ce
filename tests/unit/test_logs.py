"""Log lines: the same fields in both formats, no password in either, reopen for logrotate."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrmp import logs

SECRET = "s3cr3t-Pa55"
LEAKS = [
    f"cannot reach postgresql://ocr:{SECRET}@db.example/registre",
    f"connecting with host=db.example user=ocr password={SECRET} dbname=registre",
    f"connecting with host=db.example password = '{SECRET}' dbname=registre",
]


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Yield a path; the `ocrmp` logger writes there in the format the test sets up."""
    path = tmp_path / "ocrmp.log"
    yield path
    logs.setup("human", None)  # give the file back before tmp_path goes


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def emit(fmt: str, path: Path, message: str, *args: object, **extra: object) -> str:
    logs.setup(fmt, path)
    logging.getLogger("ocrmp.test").info(message, *args, extra=extra)
    return lines(path)[-1]


def message(line: str) -> str:
    return line.split(" INFO ", 1)[1].strip()


def human_fields(line: str) -> dict[str, str]:
    match = re.search(r"\{(.*)\}$", line)
    assert match, line
    return dict(part.split("=", 1) for part in match.group(1).split(" "))


def test_json_and_human_lines_carry_the_same_fields(log_file: Path, tmp_path: Path) -> None:
    extra = {"worker": "ocr-worker-1", "job_id": "42", "env": "prod", "pages": 3}
    human = emit("human", log_file, "Job completed in %ds", 7, **extra)
    record = json.loads(emit("json", tmp_path / "ocrmp.json", "Job completed in %ds", 7,
                             **extra))
    assert "Job completed in 7s" in human
    assert record["msg"] == "Job completed in 7s"
    assert record["level"] == "info"
    assert " INFO " in human
    assert human_fields(human) == {key: str(value) for key, value in extra.items()}
    assert {key: record[key] for key in extra} == extra


def test_a_line_without_extra_fields_has_no_empty_braces(log_file: Path) -> None:
    assert not emit("human", log_file, "ocrmp pool stopped").endswith("{}")


@pytest.mark.parametrize("fmt", ["human", "json"])
@pytest.mark.parametrize("text", LEAKS)
def test_passwords_never_reach_a_line(log_file: Path, fmt: str, text: str) -> None:
    line = emit(fmt, log_file, "%s", text)
    assert SECRET not in line
    assert "db.example" in line  # redacted, not dropped: the host still helps


@pytest.mark.parametrize("fmt", ["human", "json"])
def test_passwords_in_extra_fields_never_reach_a_line(log_file: Path, fmt: str) -> None:
    line = emit(fmt, log_file, "Database unreachable", dsn=LEAKS[0], error=LEAKS[1])
    assert SECRET not in line


@pytest.mark.parametrize("fmt", ["human", "json"])
def test_passwords_in_a_traceback_never_reach_a_line(log_file: Path, fmt: str) -> None:
    logs.setup(fmt, log_file)
    try:
        raise ConnectionError(LEAKS[0])
    except ConnectionError:
        logging.getLogger("ocrmp.test").exception("Could not connect")
    text = log_file.read_text(encoding="utf-8")
    assert "ConnectionError" in text
    assert SECRET not in text


def test_reopen_after_rotation_writes_a_new_file_at_the_same_path(log_file: Path) -> None:
    logs.setup("human", log_file)
    log = logging.getLogger("ocrmp.test")
    log.info("before rotation")
    rotated = log_file.with_name("ocrmp.log.1")
    log_file.rename(rotated)  # what logrotate does, before its postrotate sends USR1
    log.info("after rename, before reopen")
    logs.reopen()
    log.info("after reopen")
    assert [message(line) for line in lines(rotated)] == [
        "before rotation", "after rename, before reopen"]
    assert [message(line) for line in lines(log_file)] == ["after reopen"]


def test_reopen_without_a_log_file_is_harmless(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("human", None)
    logs.reopen()
    logging.getLogger("ocrmp.test").info("still on stderr")
    assert "still on stderr" in capsys.readouterr().err


def test_control_characters_from_a_row_stay_on_their_line(log_file: Path) -> None:
    number = "123\nERROR:forged\x1b[2J\u2028end"
    emit("human", log_file, "Job %s completed", number, document_number=number)
    [line] = lines(log_file)
    assert "\x1b" not in line and "\u2028" not in line
    assert human_fields(line)["document_number"] == "123\\x0aERROR:forged\\x1b[2J\\u2028end"
