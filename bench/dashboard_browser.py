"""Chromium's side of the dashboard benchmark: what each page asks the server, and how long it takes to draw.

A page counts as fully drawn when every callback it fires on opening has answered
(counted in the page by a wrapper around ``fetch``), Dash shows no loading state, and
every graph holds a figure Plotly has drawn, and all of that has held for 100 ms
(the time reported is when it began to hold, measured from the navigation's start).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
UPDATE = "/_dash-update-component"
TIMEOUT_MS = 180_000
#: a page slower than this on its first load is timed once per kind of load, not ``repeats`` times
SLOW_MS = 10_000
POLL_MS = 20  # how often the page is checked: the resolution of the load times

#: counts Dash's callback requests in flight and answered, per document
TRACKER = """
window.__bench = {inflight: 0, done: 0, since: null};
const original = window.fetch;
window.fetch = function (resource, init) {
    const url = typeof resource === 'string' ? resource : resource.url;
    const counted = url.includes('/_dash-update-component');
    if (counted) window.__bench.inflight += 1;
    const answer = original.apply(this, arguments);
    if (counted) answer.finally(() => { window.__bench.inflight -= 1; window.__bench.done += 1; });
    return answer;
};
"""

#: true (the time it began) once the page has been fully drawn for ``stable`` ms
DRAWN = """([expected, stable]) => {
    const b = window.__bench;
    const busy = b.inflight > 0 || b.done < expected ||
        document.querySelector('._dash-loading, ._dash-loading-callback, [data-dash-is-loading="true"]');
    let drawn = !!document.querySelector('#_pages_content > *');
    for (const graph of document.querySelectorAll('.dash-graph')) {
        const plot = graph.querySelector('.js-plotly-plot');
        if (!plot || !plot.querySelector('.main-svg') || !plot._fullLayout || !plot.layout
                || !Object.keys(plot.layout).length) { drawn = false; break; }
    }
    if (busy || !drawn) { b.since = null; return false; }
    if (b.since === null) b.since = performance.now();
    return performance.now() - b.since >= stable ? b.since : false;
}"""


@dataclass
class PageLoads:
    """One page: the callbacks it fires on opening, and its load times in ms."""

    path: str
    bodies: list[dict[str, Any]]
    first: float  # the first load, browser cache cold
    graphs: int = 0
    cold: list[float] = field(default_factory=list)  # by URL, a period not asked for before
    warm: list[float] = field(default_factory=list)  # by URL, the default period again
    menu: list[float] = field(default_factory=list)  # from another page through the navigation

    def p50(self, which: str) -> float:
        values: list[float] = getattr(self, which)
        return statistics.median(values) if values else float("nan")


@contextmanager
def browser_page(base: str, username: str, password: str) -> Iterator[Page]:
    """A logged-in Chromium tab on ``base`` with the callback counter installed."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"Chromium missing at {CHROMIUM}: 'make test' installs it (or says how)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(locale="de-DE", viewport={"width": 1400, "height": 1000})
        context.add_init_script(TRACKER)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        _drawn_at(page, 1, stable_ms=750)  # the landing page, so that none of its requests is recorded later
        try:
            yield page
        finally:
            browser.close()


def _drawn_at(page: Page, expected: int, stable_ms: int = 100) -> float:
    # polled with evaluate: Playwright's wait_for_function sometimes never settles on a page
    # that has just loaded (seen on /kanaele), while evaluate answers at once
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        at = page.evaluate(DRAWN, [expected, stable_ms])
        if at is not False:
            return float(at)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{page.url} was not fully drawn within {TIMEOUT_MS / 1000:.0f} s")
        page.wait_for_timeout(POLL_MS)


def record(page: Page, base: str, path: str) -> PageLoads:
    """Open ``path`` and keep the body of every callback request it makes until it is quiet."""
    bodies: list[dict[str, Any]] = []

    def keep(request: Any) -> None:
        if UPDATE in request.url and request.method == "POST":
            bodies.append(request.post_data_json)

    page.on("request", keep)
    page.goto(f"{base}{path}")
    page.wait_for_load_state("networkidle")
    first = _drawn_at(page, 1, stable_ms=750)
    page.remove_listener("request", keep)
    return PageLoads(path, bodies, first, graphs=page.locator(".dash-graph").count())


def time_loads(page: Page, base: str, loads: PageLoads, periods: Sequence[tuple[str, str]], repeats: int) -> None:
    """``repeats`` loads by URL with new periods, by URL as before, and through the navigation."""
    expected = len(loads.bodies)
    repeats = repeats if loads.first < SLOW_MS else 1
    for start, end in periods[:repeats]:
        page.goto(f"{base}{loads.path}?from={start}&to={end}")
        loads.cold.append(_drawn_at(page, expected))
    for _ in range(repeats):
        page.goto(f"{base}{loads.path}")
        loads.warm.append(_drawn_at(page, expected))
    for _ in range(repeats):
        # from a page without callbacks of its own, so that nothing else is in flight
        page.goto(f"{base}/bench-nowhere")
        _drawn_at(page, 0)
        started = page.evaluate(
            """(href) => {
                const b = window.__bench;
                b.done = 0; b.since = null;
                const link = document.querySelector(`a.nav-link[href="${href}"]`);
                const t0 = performance.now();
                link.click();
                return t0;
            }""",
            loads.path,
        )
        loads.menu.append(_drawn_at(page, expected) - float(started))


def _script(url: str) -> str:
    """A script's short name: its file without Dash's version fingerprint."""
    name = url.split("?")[0].rsplit("/", 1)[-1]
    return re.sub(r"\.v\d[\w]*?m\d+", "", name) or "(browser)"


def profile_page(page: Page, base: str, loads: PageLoads) -> dict[str, Any]:
    """One more load of the default view under Chromium's sampling profiler: where the time goes.

    Returns the load time, the main thread's busy time by script (self time), and how many
    DOM elements the page has, how many of them in the charts' table views.
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 500})
    cdp.send("Profiler.start")
    page.goto(f"{base}{loads.path}")
    drawn = _drawn_at(page, len(loads.bodies))
    profile = cdp.send("Profiler.stop")["profile"]
    cdp.detach()
    scripts = {
        node["id"]: _script(frame["url"]) if frame["url"] else frame["functionName"] or "(inline)"
        for node in profile["nodes"]
        for frame in [node["callFrame"]]
    }
    busy: dict[str, float] = {}
    for sample, delta in zip(profile["samples"], profile["timeDeltas"][1:] + [0], strict=True):
        name = scripts[sample]
        if name not in ("(idle)", "(program)", "(root)"):
            busy[name] = busy.get(name, 0.0) + delta / 1000
    elements, in_tables = page.evaluate(
        "() => [document.querySelectorAll('*').length, document.querySelectorAll('.table-view *').length]"
    )
    return {"path": loads.path, "drawn_ms": drawn, "busy_ms": dict(sorted(busy.items(), key=lambda item: -item[1])),
            "elements": elements, "table_elements": in_tables}  # fmt: skip
