"""`neutrino journal status|list|retry` on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update
from starlette.testclient import TestClient

from neutrino.bootstrap import build
from neutrino.db.models import JournalEntry
from neutrino.settings import load_settings


def _cli(state: Path, *args: str) -> dict | list:
    env = dict(os.environ, NEUTRINO_STATE_DIR=str(state))
    done = subprocess.run([sys.executable, "-m", "neutrino.cli", "journal", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_list_and_retry(tmp_path: Path):
    app = build(load_settings({"NEUTRINO_STATE_DIR": str(tmp_path)}))  # never started
    with TestClient(app.app) as client:
        for name in ("a", "b"):
            assert client.post("/v2.0/networks", json={"network": {"name": name}}
                               ).status_code == 201
    status = _cli(tmp_path, "status")
    assert status["counts"]["pending"] == 2 and status["oldest_pending_seconds"] >= 0
    pending = _cli(tmp_path, "list", "--state", "pending", "--resource-type", "network")
    assert [e["operation"] for e in pending] == ["create", "create"]

    with app.db.session() as session:
        session.execute(update(JournalEntry).where(JournalEntry.seq == pending[0]["seq"])
                        .values(state="failed", attempts=5, last_error="boom"))
    failed = _cli(tmp_path, "list", "--state", "failed")
    assert [(e["seq"], e["last_error"]) for e in failed] == [(pending[0]["seq"], "boom")]
    assert _cli(tmp_path, "retry", "--all-failed") == {"retried": 1}
    assert _cli(tmp_path, "status")["counts"] == {"pending": 2, "processing": 0,
                                                  "completed": 0, "failed": 0}
