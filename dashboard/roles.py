"""Who may see what (ARCHITECTURE.md, "Security model"), checked on the server.

Roles are ordered: a mayor sees the summary and comparison pages; an officer
every KPI page and chart downloads; an analyst also the SQL explorer; an admin
also the pipelines page. Pages declare their role when they register; every
callback that returns data is wrapped in :func:`require`, so a forged request
from a lower role is refused with 403 whatever the browser shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from flask_login import current_user

from dashboard.users import User

F = TypeVar("F", bound=Callable[..., Any])

#: mayors and officers see small cells suppressed (data contract, section 7)
SUPPRESSED_ROLES = frozenset({"mayor", "officer"})


def viewer() -> User:
    """The logged-in user of this request (the guard lets no other request through)."""
    if not current_user.is_authenticated:
        flask.abort(401)
    return current_user.user  # type: ignore[no-any-return]


def allowed(role: str) -> bool:
    return current_user.is_authenticated and current_user.user.can(role)


def require(role: str) -> Callable[[F], F]:
    """Refuse the wrapped callback with 403 unless the user has at least ``role``."""

    def wrap(callback: F) -> F:
        @functools.wraps(callback)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not allowed(role):
                audit = flask.current_app.config["EGOVSAD_AUDIT"]
                audit.record("forbidden", current_user.get_id(), path=flask.request.path, needs=role)
                flask.abort(403)
            return callback(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return wrap
