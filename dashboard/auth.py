"""Login, logout and the guard in front of every route, Dash's own included.

The guard is on the Flask server (a client-side redirect protects nothing):
without a session a page request is redirected to /login and every other
request, Dash's internal routes included, is answered 401 without data.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask
from flask_login import LoginManager, current_user, login_user, logout_user
from markupsafe import escape

from dashboard.users import LockedOut, User, UserStore

PUBLIC = frozenset({"/login", "/favicon.ico"})
# Dash serves its internals under "/_" (layout, dependencies, callbacks, component suites,
# reload hash): without a session they answer 401, never a page or data
INTERNAL_PREFIXES = ("/_", "/assets")

log = logging.getLogger(__name__)


class SessionUser:
    """The flask-login view of a stored user."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.is_authenticated = True
        self.is_active = True
        self.is_anonymous = False

    def get_id(self) -> str:
        return self.user.username


class Audit:
    """Who did what when: one JSON line per event in logs/audit.log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, event: str, username: str | None, **details: Any) -> None:
        line = {"at": datetime.now(UTC).isoformat(), "event": event, "user": username, **details}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def login_page(error: str | None, token: str) -> str:
    message = f'<p class="login-error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Anmelden – eGovSAD</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body><main class="login">
<h1>eGovSAD</h1><p>Nutzung digitaler Verwaltungsleistungen der kooperierenden Städte</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{token}">
<label for="username">Benutzername</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Passwort</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Anmelden</button>
</form></main></body></html>"""


def install(server: flask.Flask, store: UserStore, audit: Audit) -> None:
    """Add login, logout, the guard and the security headers to ``server``."""
    manager = LoginManager(server)

    @manager.user_loader
    def load(username: str) -> SessionUser | None:
        user = store.get(username)
        return None if user is None else SessionUser(user)

    def csrf_token() -> str:
        if "csrf" not in flask.session:
            flask.session["csrf"] = secrets.token_urlsafe(32)
        return str(flask.session["csrf"])

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if flask.request.method == "GET":
            return login_page(None, csrf_token())
        sent = flask.request.form.get("csrf_token", "").encode()
        expected = str(flask.session.get("csrf", "")).encode()
        if not expected or not hmac.compare_digest(sent, expected):
            return flask.Response(login_page("Sitzung abgelaufen, bitte erneut anmelden.", csrf_token()), 400)
        username = flask.request.form.get("username", "").strip()
        try:
            user = store.authenticate(username, flask.request.form.get("password", ""))
        except LockedOut:
            audit.record("lockout", username, ip=flask.request.remote_addr)
            log.warning("login refused for %s: locked out", username)
            message = "Zu viele Fehlversuche. Bitte in 15 Minuten erneut versuchen."
            return flask.Response(login_page(message, csrf_token()), 429)
        if user is None:
            audit.record("login_failed", username, ip=flask.request.remote_addr)
            return flask.Response(login_page("Benutzername oder Passwort falsch.", csrf_token()), 401)
        flask.session.clear()
        flask.session.permanent = True
        login_user(SessionUser(user))
        audit.record("login", username, ip=flask.request.remote_addr)
        return flask.redirect("/")

    @server.route("/logout", methods=["GET"])
    def logout() -> Any:
        if current_user.is_authenticated:
            audit.record("logout", current_user.get_id())
        logout_user()
        flask.session.clear()
        return flask.redirect("/login")

    @server.before_request
    def guard() -> Any:
        path = flask.request.path
        if path in PUBLIC or path == "/assets/login.css":
            return None
        if current_user.is_authenticated:
            flask.session.modified = True  # sliding expiry: idle sessions end
            return None
        if path.startswith(INTERNAL_PREFIXES) or flask.request.method != "GET":
            return flask.Response("login required", 401, {"Content-Type": "text/plain"})
        return flask.redirect("/login")

    @server.after_request
    def headers(response: flask.Response) -> flask.Response:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        # Dash renders with inline scripts and styles; everything else comes from here
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
        )
        if not flask.request.path.startswith("/_dash-component-suites") and not flask.request.path.startswith(
            "/assets"
        ):
            response.headers["Cache-Control"] = "no-store"
        return response


def secret_key(path: Path) -> bytes:
    """The session key, generated once into the home folder, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb", opener=lambda name, flags: os.open(name, flags, 0o600)) as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()
