"""The Dash app factory: Flask server, login and guard, pages, data access."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dash
import flask
from dash import dcc, html
from flask_compress import Compress
from flask_login import current_user

from dashboard import exports
from dashboard.auth import Audit, install, secret_key
from dashboard.data import DataAccess
from dashboard.i18n import LANGUAGES, language, t
from dashboard.roles import allowed, viewer
from dashboard.saved_queries import QueryStore
from dashboard.users import UserStore
from egovsad.config import Config

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def user_store(settings: Config) -> UserStore:
    return UserStore(settings.home / "users.sqlite3")


def _chrome() -> html.Div:
    """Header (pages the user may open, language switch, logout) around the page in view.

    Dash also builds the layout once outside any session (to validate it): then only
    the page container, never data.
    """
    if not current_user.is_authenticated:
        return html.Div(html.Main(dash.page_container))
    user = viewer()
    lang = language()
    links = [
        dcc.Link(t(page["name"]), href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if allowed(page.get("role", "admin"))
    ]
    other = "en" if lang == "de" else "de"
    return html.Div(
        [
            html.A(t("skip_to_content"), href="#content", className="skip-link"),
            html.Header(
                [
                    html.Span("eGovSAD", className="brand"),
                    html.Nav(links, **{"aria-label": t("pages")}),  # type: ignore[arg-type]
                    html.Span(f"{t('signed_in_as')} {user.username} ({t('role_' + user.role)})", className="whoami"),
                    html.A(
                        t("other_language"),
                        href=f"/language/{other}",
                        lang=other,
                        title=t("other_language_label"),
                        className="language",
                    ),
                    html.A(t("logout"), href="/logout", className="logout"),
                ],
                className="top",
            ),
            html.Main(dash.page_container, id="content", tabIndex="-1"),
        ],
        lang=lang,
    )


def create_app(settings: Config) -> dash.Dash:
    """The dashboard for the home folder of ``settings``."""
    server = flask.Flask(__name__)
    server.secret_key = secret_key(settings.home / "secret_key")
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.values["dashboard.https"]),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=int(settings.values["dashboard.idle_minutes"])),
        COMPRESS_MIMETYPES=["text/html", "text/css", "application/javascript", "application/json"],
    )
    audit = Audit(settings.log_dir / "audit.log")
    install(server, user_store(settings), audit)
    Compress(server)
    server.config["EGOVSAD_DATA"] = DataAccess(settings)
    server.config["EGOVSAD_AUDIT"] = audit
    server.config["EGOVSAD_SETTINGS"] = settings
    server.config["EGOVSAD_QUERIES"] = QueryStore(settings.home / "queries.sqlite3")
    server.config["EGOVSAD_EXPORTS"] = settings.home / "exports"
    exports.install(server, settings.home / "exports")

    @server.route("/language/<lang>")
    def switch_language(lang: str) -> Any:
        if lang in LANGUAGES:
            flask.session["lang"] = lang
        back = flask.request.referrer or "/"
        # only ever back to this site
        return flask.redirect(back if back.startswith(flask.request.host_url) else "/")

    # Dash's own type hints are narrower than its documented API (a Flask server, no
    # update_title, aria-* attributes), hence the ignores below
    app = dash.Dash(  # type: ignore[misc]
        __name__,
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ASSETS),
        title="eGovSAD",
        update_title=None,  # type: ignore[arg-type]
        serve_locally=True,
        suppress_callback_exceptions=True,  # page layouts are built per request and role
    )
    app.layout = _chrome
    return app
