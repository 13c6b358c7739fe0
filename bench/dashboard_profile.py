"""Where a slow callback spends its time: each query (DuckDB vs Python) and the Python around it.

Runs the app in this process (Flask's test client, logged in as the given user) and
replays the callback with periods not asked for before: once plain for its time,
once with every data-layer call timed, once under cProfile.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.dashboard_app import build
from egovsad import config as configuration

UPDATE = "/_dash-update-component"


@dataclass
class Call:
    """One call into the dashboard's data access (nested calls count in the outermost)."""

    what: str
    ms: float = 0.0
    duckdb_ms: float = 0.0  # inside warehouse ``frame()``: the query and the Arrow fetch
    suppress_ms: float = 0.0  # small-cell suppression (Python, after the query)


@dataclass
class Trace:
    calls: list[Call] = field(default_factory=list)
    open: list[Call] = field(default_factory=list)


def _describe(key: Any) -> str:
    """A readable name for a DataAccess cache key: ("kpi", id, Selection, by, True) -> "kpi id [..] by city"."""
    if not isinstance(key, tuple):
        return str(key)
    parts = []
    for part in key:
        if type(part).__name__ == "Selection":
            filters = [f"{name}={len(value)}" for name in ("cities", "services") if (value := getattr(part, name))]
            parts.append(f"[{part.start:%Y-%m}..{part.end:%Y-%m}{' ' + ' '.join(filters) if filters else ''}]")
        elif isinstance(part, bool):
            parts.append("suppressed" if part else "")
        elif isinstance(part, tuple):
            parts.append("by " + ",".join(map(str, part)) if part else "total")
        elif not isinstance(part, Path):
            parts.append(str(part))
    return " ".join(part for part in parts if part)


@contextmanager
def traced() -> Iterator[Trace]:
    """Time every call of the dashboard's data access, and the queries and suppression inside it."""
    import dashboard.data as data_module

    trace = Trace()
    originals: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, wrapper: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, wrapper(original))

    @contextmanager
    def timing(call: Call, *, top: bool) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            call.ms = (time.perf_counter() - started) * 1000
            if top:
                trace.calls.append(call)

    def cached(original: Any) -> Any:
        def timed(self: Any, key: Any, query: Any) -> Any:
            hit = any(cached_key[1] == key for cached_key in self._cache)
            call = Call(_describe(key) + (" (cached)" if hit else ""))
            top = not trace.open
            trace.open.append(call)
            try:
                with timing(call, top=top):
                    return original(self, key, query)
            finally:
                trace.open.pop()
                if not top:
                    trace.open[0].duckdb_ms += call.duckdb_ms
                    trace.open[0].suppress_ms += call.suppress_ms

        return timed

    def frame(original: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if trace.open:
                    trace.open[-1].duckdb_ms += (time.perf_counter() - started) * 1000

        return timed

    def suppress(original: Any) -> Any:
        def timed(result: Any, by: tuple[str, ...], **kwargs: Any) -> Any:
            call = Call(f"suppress {result.height} cells by {','.join(by)}")
            with timing(call, top=not trace.open):
                answer = original(result, by, **kwargs)
            call.suppress_ms = call.ms
            if trace.open:
                trace.open[-1].suppress_ms += call.ms
            return answer

        return timed

    patch(data_module.DataAccess, "_cached", cached)
    patch(data_module, "suppress", suppress)
    for module in [m for name, m in sys.modules.items() if name.startswith("warehouse.")]:
        if hasattr(module, "frame") and module.__name__ != "warehouse.db":
            patch(module, "frame", frame)
    try:
        yield trace
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


_APPS: dict[Path, Any] = {}


def _app(home: Path) -> Any:
    """The app of ``home``, built once per process (Dash registers pages and callbacks globally)."""
    if home not in _APPS:
        _APPS[home] = build(configuration.load(home, environ={}))
    return _APPS[home]


def profile(home: Path, username: str, password: str, bodies: list[dict[str, Any]], *, top: int = 12) -> str:
    """A report on one callback: ``bodies`` are its request with four periods not asked for before."""
    client = _app(home).server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    client.post("/login", data={"username": username, "password": password, "csrf_token": token[1]})
    client.post(UPDATE, json={**bodies[0]})  # the process's first request: Dash's setup, cities, services
    plain, instrumented, profiled = bodies[1:4]
    started = time.perf_counter()
    client.post(UPDATE, json=plain)
    plain_ms = (time.perf_counter() - started) * 1000
    with traced() as trace:
        started = time.perf_counter()
        answer = client.post(UPDATE, json=instrumented)
        traced_ms = (time.perf_counter() - started) * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    client.post(UPDATE, json=profiled)
    profiler.disable()
    data_ms = sum(call.ms for call in trace.calls)
    duckdb_ms = sum(call.duckdb_ms for call in trace.calls)
    suppress_ms = sum(call.suppress_ms for call in trace.calls)
    lines = [
        f"Request {plain_ms:.0f} ms (instrumented {traced_ms:.0f} ms, {len(answer.get_data()) / 1000:.0f} kB): "
        f"data access {data_ms:.0f} ms, in it DuckDB (query and Arrow fetch) {duckdb_ms:.0f} ms and suppression "
        f"{suppress_ms:.0f} ms; the callback's own Python (frames, figure, table), Dash's JSON and Flask "
        f"{traced_ms - data_ms:.0f} ms.",
        "",
        "| data access | ms | DuckDB | suppression | other Python |",
        "|---|---:|---:|---:|---:|",
    ]
    small = [call for call in trace.calls if call.ms < 1]
    for call in sorted((call for call in trace.calls if call.ms >= 1), key=lambda c: -c.ms):
        rest = call.ms - call.duckdb_ms - call.suppress_ms
        lines.append(f"| {call.what} | {call.ms:.1f} | {call.duckdb_ms:.1f} | {call.suppress_ms:.1f} | {rest:.1f} |")
    if small:
        lines.append(f"| {len(small)} calls under 1 ms (cached) | {sum(c.ms for c in small):.1f} | | | |")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    body = out.getvalue()
    lines += ["", "cProfile, by own time:", "", "```", body[body.find("ncalls") :].rstrip(), "```"]
    return "\n".join(lines)


def profile_all(home: Path, jobs: list[tuple[str, str, str, list[dict[str, Any]]]]) -> list[str]:
    """``profile`` for each (label, username, password, bodies), in one app (one process)."""
    return [f"#### {label}\n\n" + profile(home, user, password, bodies) for label, user, password, bodies in jobs]
