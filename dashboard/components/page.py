"""What every page layout does first: check the role, read the filters, say when there is no data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flask
from dash import html

from dashboard import filters
from dashboard.data import DataAccess
from dashboard.i18n import t
from dashboard.roles import allowed, viewer
from warehouse.errors import WarehouseError


def data() -> DataAccess:
    """The data access of the running app."""
    return flask.current_app.config["EGOVSAD_DATA"]  # type: ignore[no-any-return]


def layout(
    page: str,
    role: str,
    query: Mapping[str, Any],
    names: Sequence[str],
    body: Callable[[dict[str, Any]], list[Any]],
    *,
    defaults: Mapping[str, Any] | None = None,
) -> html.Div:
    """The page: heading, filter bar from the URL, then ``body(values)``; or why not."""
    title = html.H1(t(f"page_{page}"))
    if not allowed(role):
        return html.Div([html.H1(t("no_access")), html.P(t("no_access_text"))], className="page no-access")
    access = data()
    try:
        values = filters.parse(query, names, viewer(), access, defaults or {})
        bar = [filters.bar(page, names, values, access)] if names else []
        content = body(values)
    except WarehouseError:
        return html.Div([title, html.P(t("no_data"), role="status")], className="page")
    return html.Div([title, *bar, *content], className=f"page page-{page}")
