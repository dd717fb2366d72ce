"""`ocrmp status` run for real: the done documents with flagged pages of each environment."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from ocrmp.vocabulary import PageFlag
from tests.acceptance.test_cli_db import cli_environment, ocrmp
from tests.doubles import FAKE
from tests.flagged import insert_done, ocr_result
from tests.integration.test_flagged import fill_every_case

LOW, HAND = PageFlag.LOW_CONFIDENCE, PageFlag.HANDWRITING


def two_environments(dsn: str, other_dsn: str, tmp: Path) -> dict[str, str]:
    """dev on `dsn`, prod on `other_dsn`; no pool runs (a private run directory)."""
    return {"OCR_PROD": "true", "PROD_DATABASE_URL": other_dsn,
            "OCRMP_RUN_DIR": str(tmp / "run")}


def queue_line(text: str, env: str, kind: str) -> dict[str, str]:
    """A row of the QUEUE table, by column name."""
    lines = text.splitlines()
    header = lines[lines.index("QUEUE") + 1].split()
    [row] = [line.split() for line in lines if line.split()[:2] == [env, kind]]
    return dict(zip(header, row, strict=True))


def test_flagged_done_documents_per_environment_kind_and_reason(dsn: str, other_dsn: str,
                                                                tmp_path: Path) -> None:
    fill_every_case(dsn)  # dev: acte 2 flagged of 6 done, index 1
    insert_done(other_dsn, "index", ocr_result("index", [HAND], [HAND, LOW]))
    insert_done(other_dsn, "index", ocr_result("index", []))
    insert_done(other_dsn, "acte", {"pages": 3})  # an older version's result
    env = two_environments(dsn, other_dsn, tmp_path)
    done = ocrmp(dsn, tmp_path, "status", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["environments"]
    flagged = {(name, kind): (row["done"], row["flagged"], row["flags"])
               for name, info in report.items() for kind, row in info["kinds"].items()}
    assert flagged == {
        ("dev", "acte"): (6, 2, {"low_confidence": 2, "non_words": 1, "handwriting": 1}),
        ("dev", "index"): (1, 1, {"table_unread": 1}),
        ("prod", "index"): (2, 1, {"handwriting": 1, "low_confidence": 1}),
        ("prod", "acte"): (1, 0, {}),
    }
    text = ocrmp(dsn, tmp_path, "status", env=env)
    assert text.returncode == 0, text.stderr
    assert queue_line(text.stdout, "dev", "acte")["flagged"] == "2"
    assert queue_line(text.stdout, "prod", "index")["flagged"] == "1"
    assert queue_line(text.stdout, "prod", "acte")["flagged"] == "0"


def test_watch_shows_a_document_flagged_after_it_started(dsn: str, tmp_path: Path) -> None:
    insert_done(dsn, "acte", ocr_result("acte", [LOW]))
    environ = cli_environment(dsn, tmp_path, {"OCRMP_RUN_DIR": str(tmp_path / "run")})
    watcher = subprocess.Popen([sys.executable, "-m", "ocrmp", "status", "--watch", "0.2s"],
                               stdout=subprocess.PIPE, text=True, env=environ)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout or ()],
                     daemon=True).start()
    try:
        read_until_flagged(lines, "1")
        insert_done(dsn, "acte", ocr_result("acte", [], [HAND]))
        read_until_flagged(lines, "2")
    finally:
        watcher.terminate()
        watcher.wait(30)


def read_until_flagged(lines: queue.Queue[str], count: str) -> None:
    """Read the watch's screens until the dev acte row shows `count` flagged documents."""
    header: list[str] = []
    while True:
        words = lines.get(timeout=60).split()  # the bound only keeps a broken build from hanging
        if words[:2] == ["env", "kind"]:
            header = words
        row = dict(zip(header, words, strict=True)) if words[:2] == ["dev", "acte"] else {}
        if row.get("flagged") == count:
            return


def test_a_pool_running_on_this_host_is_shown(dsn: str, tmp_path: Path) -> None:
    env = {"OCRMP_RUN_DIR": str(tmp_path / "run"), "OCRMP_POOL_NAME": "shown"}
    started = ocrmp(dsn, tmp_path, "ensure", "--size", "1", "--runner", FAKE, env=env)
    assert started.returncode == 0, started.stderr
    try:
        text = ocrmp(dsn, tmp_path, "status", env=env).stdout
        report = json.loads(ocrmp(dsn, tmp_path, "status", "--json", env=env).stdout)
    finally:
        assert ocrmp(dsn, tmp_path, "stop", env=env).returncode == 0
    [pool] = report["local_pools"]
    assert pool["pool"] == "shown"
    assert f"POOL shown (master pid {pool['master_pid']}, this host)" in text.splitlines()
