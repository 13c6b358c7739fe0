"""`egovsad users`: add, list, change the password, remove."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def users(home: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EGOVSAD_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "egovsad", "users", *args], input=password, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def test_users_lifecycle(home: Path) -> None:
    assert users(home, "add", "anna", "--role", "mayor", "--city", "marburg", "--password-stdin",
                 password="lange-geheime-phrase\n").returncode == 0  # fmt: skip
    listed = json.loads(users(home, "list", "--format", "json").stdout)
    assert listed == [{"username": "anna", "role": "mayor", "city": "marburg"}]
    assert users(home, "passwd", "anna", "--password-stdin", password="noch-laengere-phrase\n").returncode == 0
    assert users(home, "remove", "anna").returncode == 0
    assert json.loads(users(home, "list", "--format", "json").stdout) == []
    stored = (home / "users.sqlite3").read_bytes()
    assert b"lange-geheime-phrase" not in stored and b"noch-laengere-phrase" not in stored


def test_bad_requests_get_one_line(home: Path) -> None:
    short = users(home, "add", "bob", "--role", "officer", "--city", "fulda", "--password-stdin", password="kurz\n")
    no_city = users(home, "add", "bob", "--role", "officer", "--password-stdin", password="lange-geheime-phrase\n")

    assert short.returncode == 1 and short.stderr.strip() == "egovsad: the password must have at least 10 characters"
    assert no_city.returncode == 1 and no_city.stderr.strip() == "egovsad: a officer needs a home city (--city)"
