"""The dashboard as `egovsad serve` runs it, plus one callback that does nothing (bench only).

The no-op callback goes through everything a page's callback goes through (gunicorn,
the login guard, the session, Dash's dispatch and JSON) and nothing else: its round
trip is the floor the benchmark sets every page's callbacks against.
gunicorn calls ``bench.dashboard_app:wsgi()``; importing this module builds nothing.
"""

from __future__ import annotations

import dash
import flask
from dash import Input, Output

from dashboard.app import create_app
from egovsad import config as configuration

NOOP_INPUT = "bench-noop-input"
NOOP_OUTPUT = "bench-noop-output"


def build(settings: configuration.Config) -> dash.Dash:
    """The app of ``settings`` with the no-op callback (once per process: Dash registers globally)."""
    app = create_app(settings)

    # registered before the first request, so Dash merges it with the pages' callbacks
    @dash.callback(Output(NOOP_OUTPUT, "children"), Input(NOOP_INPUT, "value"))
    def noop(value: object) -> object:
        return value

    return app


def wsgi() -> flask.Flask:
    """The WSGI app of $EGOVSAD_HOME, as ``dashboard.wsgi`` builds it."""
    return build(configuration.load()).server  # type: ignore[no-any-return]
