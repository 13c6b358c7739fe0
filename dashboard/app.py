"""The Dash app factory: Flask server, login and guard, pages, data access."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dash
import flask
from dash import dcc, html

from dashboard.auth import Audit, install, secret_key
from dashboard.data import DataAccess
from dashboard.users import UserStore
from egovsad.config import Config

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def user_store(settings: Config) -> UserStore:
    return UserStore(settings.home / "users.sqlite3")


def create_app(settings: Config) -> dash.Dash:
    """The dashboard for the home folder of ``settings``."""
    server = flask.Flask(__name__)
    server.secret_key = secret_key(settings.home / "secret_key")
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.values["dashboard.https"]),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=int(settings.values["dashboard.idle_minutes"])),
    )
    install(server, user_store(settings), Audit(settings.log_dir / "audit.log"))
    server.config["EGOVSAD_DATA"] = DataAccess(settings)
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
    )
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.Span("eGovSAD", className="brand"),
                    html.Nav(
                        [dcc.Link(page["name"], href=page["relative_path"]) for page in dash.page_registry.values()],
                        **{"aria-label": "Seiten"},  # type: ignore[arg-type]
                    ),
                    html.A("Abmelden", href="/logout", className="logout"),
                ],
                className="top",
            ),
            html.Main(dash.page_container),
        ],
        lang="de",
    )
    return app


def data() -> DataAccess:
    """The data access of the running app (for page layouts and callbacks)."""
    return flask.current_app.config["EGOVSAD_DATA"]  # type: ignore[no-any-return]
