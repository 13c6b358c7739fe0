"""Chart building blocks: the colour-blind-safe palette, the home city's emphasis, German axes.

Colours are Okabe & Ito's palette (distinguishable with every common colour
vision deficiency); each city and each channel keeps its colour on every page.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashboard.i18n import axis_separators, channel_name, language

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"]
CHANNEL_COLOURS = {
    "online": "#0072B2", "app": "#56B4E9", "in_person": "#E69F00",
    "phone": "#D55E00", "email": "#CC79A7", "post": "#009E73",
}  # fmt: skip
HOME = "#0072B2"
OTHER = "#A7B6C2"
REFERENCE = "#000000"
CHANNELS = tuple(CHANNEL_COLOURS)


def city_colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)]


def city_label(name: str, home: bool, stale: bool = False) -> str:
    """A city's name on an axis: bold for the home city, marked when its data is out of date."""
    label = f"<b>{name}</b>" if home else name
    return f"{label} ⚠" if stale else label


def channel_label(channel: str) -> str:
    return channel_name(channel)


def figure(*traces: Any, y_format: str = "", x_title: str = "", y_title: str = "", **layout: Any) -> go.Figure:
    """A figure with the dashboard's layout: language-specific separators, quiet grid, legend on top."""
    fig = go.Figure(list(traces))
    base: dict[str, Any] = {
        "separators": axis_separators(language()),
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "height": 340,
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "font": {"family": "system-ui, sans-serif", "size": 13, "color": "#1a1a1a"},
        "legend": {"orientation": "h", "y": -0.18},
        "hoverlabel": {"namelength": -1},
    }
    fig.update_layout(**{**base, **layout})
    y_axis = {"gridcolor": "#e5e5e5", "tickformat": y_format, "title": y_title, "automargin": True}
    fig.update_layout(yaxis={**y_axis, "rangemode": "tozero"})
    fig.update_xaxes(title=x_title, automargin=True)
    return fig


def empty(message: str) -> go.Figure:
    """A figure that says why there is nothing to draw (never an empty axis that reads as zero)."""
    fig = figure()
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=message, showarrow=False, font={"size": 15}, x=0.5, y=0.5, xref="paper", yref="paper")
    return fig
