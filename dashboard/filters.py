"""The filter bar every page shares, and the URL that carries it.

A page names the filters it uses; their values come from the URL's query
string when the page is opened (so a copied link reproduces the view), fall
back to the user's home city and the last twelve full months, and are written
back to the address bar with ``history.replaceState`` whenever they change
(the page is not reloaded, keyboard focus stays where it is).
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import dash
from dash import Input, Output, dcc, html

from dashboard.data import DataAccess
from dashboard.i18n import language, month_label, t
from dashboard.users import User
from warehouse.kpis import KPIS, Selection, last_full_months

MEASURES = ("absolute", "per_1000")


@dataclass(frozen=True)
class Filter:
    name: str  # URL parameter and the suffix of the control's id
    label: str  # i18n key
    multi: bool = False


FILTERS: dict[str, Filter] = {
    f.name: f
    for f in [
        Filter("from", "from_month"),
        Filter("to", "to_month"),
        Filter("city", "city"),
        Filter("cities", "cities", multi=True),
        Filter("service", "service"),
        Filter("services", "services", multi=True),
        Filter("kpi", "kpi"),
        Filter("measure", "measure"),
    ]
}


def control_id(page: str, name: str) -> str:
    return f"{page}-filter-{name}"


def _split(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(item) for item in raw]
    return [part for part in str(raw).split(",") if part]


def _options(name: str, access: DataAccess) -> list[dict[str, str]]:
    lang = language()
    if name in ("from", "to"):
        return [{"label": month_label(month, lang), "value": month} for month in _months(access)]
    if name in ("city", "cities"):
        return [{"label": row["name"], "value": row["slug"]} for row in access.cities().iter_rows(named=True)]
    if name in ("service", "services"):
        column = "name_en" if lang == "en" else "name_de"
        return [
            {"label": row[column], "value": row["service_key"]}
            for row in access.services().sort(column).iter_rows(named=True)
        ]
    if name == "kpi":
        return [{"label": kpi.name_en if lang == "en" else kpi.name_de, "value": kpi.id} for kpi in KPIS.values()]
    return [{"label": t(measure), "value": measure} for measure in MEASURES]


def _months(access: DataAccess) -> list[str]:
    """Months with data, and at least the default period (so an empty warehouse still has a range)."""
    start, end = last_full_months(access.today())
    default = [f"{year}-{month:02d}" for year in range(start.year, end.year + 1) for month in range(1, 13)]
    months = set(access.months()) | {m for m in default if f"{start:%Y-%m}" <= m <= f"{end:%Y-%m}"}
    return sorted(months)


def _default(name: str, user: User, access: DataAccess, defaults: Mapping[str, Any]) -> Any:
    if name in defaults:
        return defaults[name]
    start, end = last_full_months(access.today())
    if name == "from":
        return f"{start:%Y-%m}"
    if name == "to":
        return f"{end:%Y-%m}"
    if name == "city":
        return user.city or access.cities()["slug"][0]
    if name == "measure":
        return "absolute"
    if name == "kpi":
        return "digital_takeup"
    if name == "service":
        return access.services()["service_key"][0]
    return []


def parse(
    query: Mapping[str, Any], names: Sequence[str], user: User, access: DataAccess, defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """The filter values of a page from its URL query; unknown values are dropped, not trusted."""
    values: dict[str, Any] = {}
    for name in names:
        allowed = {option["value"] for option in _options(name, access)}
        chosen = [value for value in _split(query.get(name)) if value in allowed]
        if FILTERS[name].multi:
            values[name] = chosen if query.get(name) is not None else _default(name, user, access, defaults)
        else:
            values[name] = chosen[0] if chosen else _default(name, user, access, defaults)
    return values


def bar(page: str, names: Sequence[str], values: Mapping[str, Any], access: DataAccess) -> html.Div:
    """The filter controls of a page, each with a visible label."""
    controls: list[Any] = []
    for name in names:
        spec = FILTERS[name]
        options = _options(name, access)
        if name == "measure":
            control: Any = dcc.RadioItems(
                id=control_id(page, name),
                options=options,
                value=values[name],
                inline=True,  # type: ignore[arg-type]
            )
        else:
            control = dcc.Dropdown(
                id=control_id(page, name),
                options=options,  # type: ignore[arg-type]
                value=values[name],
                multi=spec.multi,
                clearable=spec.multi,
                placeholder=t("all_services") if name == "services" else t("all_cities") if name == "cities" else "",
            )
        # Dash's dropdown names itself by its value: the group carries the label for screen readers
        label_id = f"{control_id(page, name)}-label"
        controls.append(
            html.Div(
                [html.Label(t(spec.label), htmlFor=control_id(page, name), id=label_id), control],
                className=f"filter filter-{name}",
                role="group",
                **{"aria-labelledby": label_id},  # type: ignore[arg-type]
            )
        )
    controls.append(dcc.Store(id=f"{page}-url-sync"))
    return html.Div(controls, className="filters", role="search")


def inputs(page: str, names: Sequence[str]) -> list[Input]:
    return [Input(control_id(page, name), "value") for name in names]


def sync_url(page: str, names: Sequence[str]) -> None:
    """Write the page's filter values into the address bar whenever they change."""
    dash.clientside_callback(
        f"""function(...values) {{
            const names = {json.dumps(list(names))};
            const params = new URLSearchParams();
            names.forEach((name, i) => {{
                const value = values[i];
                if (value === null || value === undefined || value === '') return;
                if (Array.isArray(value)) {{ if (value.length) params.set(name, value.join(',')); }}
                else params.set(name, value);
            }});
            const query = params.toString();
            const url = window.location.pathname + (query ? '?' + query : '');
            if (url !== window.location.pathname + window.location.search) window.history.replaceState(null, '', url);
            return query;
        }}""",
        Output(f"{page}-url-sync", "data"),
        inputs(page, names),
    )


def period(values: Mapping[str, Any]) -> tuple[date, date]:
    """The first and last day of the chosen months (swapped if given the wrong way round)."""
    first, last = sorted([values["from"], values["to"]])
    start = date(int(first[:4]), int(first[5:7]), 1)
    year, month = int(last[:4]), int(last[5:7])
    return start, date(year, month, calendar.monthrange(year, month)[1])


def previous(start: date, end: date) -> tuple[date, date]:
    """The period of equal length just before, month-aligned when the period is whole months."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    year, month = start.year, start.month - months
    while month < 1:
        year, month = year - 1, month + 12
    first = date(year, month, 1)
    before = date.fromordinal(start.toordinal() - 1)
    return first, before


def selection(values: Mapping[str, Any], **override: Any) -> Selection:
    """The KPI selection of the filter values (``override`` fixes cities, services, ...)."""
    start, end = period(values)
    services = values.get("services") or ([values["service"]] if values.get("service") else [])
    fields: dict[str, Any] = {"cities": tuple(values.get("cities") or ()), "services": tuple(services)}
    fields.update(override)
    return Selection(start, end, **fields)
