"""Export files of the SQL page: written under the home folder, fetched by their owner only.

An export can be far larger than memory, so it is never sent through a Dash
callback (which would carry it base64-encoded in JSON): the callback streams the
result to ``exports/<user>/`` and links it; this route sends the file from disk.
Files older than a day are removed at the next export of the same user.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import flask

from dashboard.roles import allowed, viewer

KEEP_SECONDS = 24 * 3600
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def user_folder(root: Path, username: str) -> Path:
    folder = root / username
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return folder


def install(server: flask.Flask, root: Path) -> None:
    """Add ``/exports/<file>``: the logged-in analyst's own export files, as attachments."""

    @server.route("/exports/<name>")
    def export_file(name: str) -> Any:
        if not allowed("analyst"):
            flask.abort(403)
        if not SAFE_NAME.match(name):
            flask.abort(404)
        path = root / viewer().username / name
        if not path.is_file():
            flask.abort(404)
        return flask.send_file(path, as_attachment=True, download_name=name, max_age=0)
