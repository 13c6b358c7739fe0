"""Dashboard benchmark: every page's callbacks, page loads in Chromium, 30 sessions at once.

Everything is discovered from the running app: the pages are the navigation links an
admin gets from ``/_dash-layout``; the callbacks are what Chromium asks the server when
it opens each page (replayed here with httpx), plus each chart's CSV download, built
from the same filter values. Callbacks a user fires by hand otherwise (such as "run
now") are not replayed.

Timing is the round trip on 127.0.0.1, set against the round trip of a callback that
does nothing (``bench.dashboard_app``). The dashboard caches results per snapshot, so
"cold" requests each ask for a period not asked for before (a cache miss, as after a
new snapshot or a filter change) and "warm" ones repeat the page's default view.
Pages an officer may open are measured as an officer (small cells suppressed, as for
mayors), the others as an admin. Goals (issue 5): cold p95 under 100 ms per callback,
a page drawn within 1.5 s, no errors under load.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench import dashboard_browser as browser
from bench.dashboard_app import NOOP_INPUT, NOOP_OUTPUT
from dashboard.app import user_store
from egovsad import config as configuration
from warehouse import views
from warehouse.db import connect_writer, migration_files
from warehouse.lock import writer_lock
from warehouse.snapshots import open_current, publish

PORT = 8081
PASSWORD = "bench-Passwort-2026"
ADMIN = "bench-admin"
OFFICER = "bench-officer"
ROLES = ("mayor", "officer", "analyst", "admin")
UPDATE = "/_dash-update-component"
GOAL_CALLBACK_MS = 100.0
GOAL_PAGE_MS = 1500.0
COLD, WARM, EMPTY = 20, 30, 200
PAGE_LOADS = 5
#: lengths of the periods asked for in cold requests and under load, in months
PERIOD_MONTHS = range(6, 19)
SESSIONS, LOAD_SECONDS = 30, 60.0


class BenchError(RuntimeError):
    """The dashboard did not start or answer as the benchmark needs."""


@dataclass
class Callback:
    """One server callback of one page, as the browser sent it."""

    page: str
    body: dict[str, Any]
    download: bool = False

    @property
    def label(self) -> str:
        outputs = self.body["outputs"]
        first = outputs[0] if isinstance(outputs, list) else outputs
        name = "page layout" if first["id"] == "_pages_content" else f"{first['id']}.{first['property']}"
        return f"{self.page} {name}"


@dataclass
class Timing:
    label: str
    role: str = "admin"
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    kb: float = 0.0


def p(values: list[float], q: int) -> float:
    """The q-th percentile (the largest value when there are too few for the quantiles)."""
    if not values:
        return float("nan")
    if len(values) < 3:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --- the server ---------------------------------------------------------------------------------


def prepare(home: Path) -> int:
    """Bring the home's warehouse to the current schema (publishing if it changed), create the
    benchmark's users (an admin, an officer, one user per load session with roles and cities in
    turn) and return the number of events."""
    settings = configuration.load(home, environ={})
    _path, con = open_current(settings.snapshot_dir)
    try:
        applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
        events = int(con.execute("SELECT count(*) FROM event_store").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    if {path.stem for path in migration_files()} - applied:
        with writer_lock(settings.lock_path, wait=True), connect_writer(settings.warehouse) as writer:
            publish(writer, settings.warehouse_path, settings.snapshot_dir, keep=int(settings.values["snapshots.keep"]))
    store = user_store(settings)
    users = [(ADMIN, "admin", None), (OFFICER, "officer", "offenbach")] + [
        (f"bench-user-{n:02d}", ROLES[n % len(ROLES)], configuration.CITIES[n % len(configuration.CITIES)])
        for n in range(SESSIONS)
    ]
    for username, role, city in users:
        if store.get(username) is not None:
            store.remove(username)
        store.add(username, role, city, PASSWORD)
    return events


@contextmanager
def server(home: Path, workers: int) -> Iterator[str]:
    """The dashboard on gunicorn as `egovsad serve` starts it, with the no-op callback added."""
    settings = configuration.load(home, environ={})
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "EGOVSAD_HOME": str(home)}
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{PORT}", "--workers", str(workers),
        "--control-socket", str(home / "gunicorn.ctl"), "--access-logfile", str(settings.log_dir / "access.log"),
        "bench.dashboard_app:wsgi()",
    ]  # fmt: skip
    errors = (settings.log_dir / "bench-gunicorn.err").open("w")
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).parent.parent, stderr=errors)
    base = f"http://127.0.0.1:{PORT}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(f"the dashboard did not start; see {errors.name}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        errors.close()


def login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if token is None:
        raise BenchError("no CSRF token on the login form")
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]})
    if answer.status_code != 302:
        raise BenchError(f"login of {username} answered {answer.status_code}")
    return client


def page_paths(client: httpx.Client) -> list[str]:
    """The pages this user's navigation links to, in menu order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Link" and isinstance(node.get("props", {}).get("href"), str):
                found.append(node["props"]["href"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(client.get("/_dash-layout").json())
    return list(dict.fromkeys(found))


# --- requests -----------------------------------------------------------------------------------


def periods(home: Path, lengths: range) -> list[tuple[str, str]]:
    """Every period of whole months with data whose length in months is in ``lengths``, in a fixed
    random order (the default view is the last 12 full months: lengths around 12 cost about as much)."""
    settings = configuration.load(home, environ={})
    _path, con = open_current(settings.snapshot_dir)
    try:
        months = [month for month in views.months(con) if month < f"{date.today():%Y-%m}"]
    finally:
        con.close()
    pairs = [(months[i], months[i + n - 1]) for n in lengths for i in range(len(months) - n + 1)]
    random.Random(5).shuffle(pairs)
    return pairs


def with_period(body: dict[str, Any], period: tuple[str, str]) -> dict[str, Any]:
    """The request with its period filters (and the page's URL query) set to ``period``."""
    start, end = period

    def change(item: Any) -> Any:
        if isinstance(item, list):
            return [change(entry) for entry in item]
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return item
        if item["id"].endswith("-filter-from"):
            return {**item, "value": start}
        if item["id"].endswith("-filter-to"):
            return {**item, "value": end}
        if item["id"] == "_pages_location" and item.get("property") == "search":
            return {**item, "value": f"?from={start}&to={end}"}
        return item

    return {**body, "inputs": change(body.get("inputs", [])), "state": change(body.get("state", []))}


def downloads(page: str, bodies: list[dict[str, Any]], dependencies: list[dict[str, Any]]) -> list[Callback]:
    """Each CSV download of the page, with the filter values its chart was drawn with."""
    seen: dict[str, Any] = {}
    for body in bodies:
        for item in body.get("inputs", []) + body.get("state", []):
            if isinstance(item, dict):
                seen[f"{item['id']}.{item['property']}"] = item.get("value")
    found = []
    for dependency in dependencies:
        output = dependency["output"]
        if not output.endswith("-download.data"):
            continue
        inputs = [{"id": i["id"], "property": i["property"], "value": 1} for i in dependency["inputs"]]
        names = [f"{s['id']}.{s['property']}" for s in dependency["state"]]
        if not all(name in seen for name in names):
            continue
        state = [{"id": s["id"], "property": s["property"], "value": seen[f"{s['id']}.{s['property']}"]}
                 for s in dependency["state"]]  # fmt: skip
        out_id, _, prop = output.rpartition(".")
        body = {"output": output, "outputs": {"id": out_id, "property": prop}, "inputs": inputs, "state": state,
                "changedPropIds": [f"{inputs[0]['id']}.n_clicks"]}  # fmt: skip
        found.append(Callback(page, body, download=True))
    return found


def noop_body(value: int) -> dict[str, Any]:
    return {
        "output": f"{NOOP_OUTPUT}.children",
        "outputs": {"id": NOOP_OUTPUT, "property": "children"},
        "inputs": [{"id": NOOP_INPUT, "property": "value", "value": value}],
        "changedPropIds": [f"{NOOP_INPUT}.value"],
        "state": [],
    }


def timed(client: httpx.Client, body: dict[str, Any]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = client.post(UPDATE, json=body)
    return (time.perf_counter() - started) * 1000, answer


def measure(client: httpx.Client, callback: Callback, cold_periods: list[tuple[str, str]]) -> Timing:
    """Cold: one new period per request; warm: the recorded view again, after priming every worker."""
    timing = Timing(callback.label + (" (CSV download)" if callback.download else ""))
    for period in cold_periods:
        ms, answer = timed(client, with_period(callback.body, period))
        if answer.status_code not in (200, 204):
            raise BenchError(f"{timing.label} answered {answer.status_code}: {answer.text[:300]}")
        timing.cold.append(ms)
    for _ in range(8):
        timed(client, callback.body)
    for _ in range(WARM):
        ms, answer = timed(client, callback.body)
        timing.warm.append(ms)
        timing.kb = len(answer.content) / 1000
    return timing


# --- load ---------------------------------------------------------------------------------------


def load(base: str, pages: dict[str, list[Callback]], pool: list[tuple[str, str]], seconds: float) -> dict[str, Any]:
    """SESSIONS users at once, each opening its pages in turn (a random period per page view) and
    sending that page's callbacks one after another, until ``seconds`` have passed."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    clients = [login(base, f"bench-user-{n:02d}") for n in range(SESSIONS)]
    visible = [[path for path in page_paths(client) if path in pages] for client in clients]
    deadline = time.monotonic() + seconds

    def session(n: int) -> None:
        rng = random.Random(n)
        client, mine = clients[n], visible[n]
        view = n
        while time.monotonic() < deadline:
            path = mine[view % len(mine)]
            period = rng.choice(pool)
            view += 1
            for callback in pages[path]:
                try:
                    ms, answer = timed(client, with_period(callback.body, period))
                    failed = None if answer.status_code in (200, 204) else f"HTTP {answer.status_code}"
                except httpx.HTTPError as error:
                    ms, failed = float("nan"), type(error).__name__
                with lock:
                    if failed:
                        errors[failed] += 1
                    else:
                        latencies.append(ms)

    started, cpu = time.monotonic(), time.process_time()
    threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    client_cores = (time.process_time() - cpu) / elapsed
    for client in clients:
        client.close()
    return {
        "sessions": SESSIONS, "seconds": elapsed, "requests": len(latencies) + sum(errors.values()),
        "per_second": (len(latencies) + sum(errors.values())) / elapsed, "p50_ms": p(latencies, 50),
        "p95_ms": p(latencies, 95), "max_ms": max(latencies, default=float("nan")), "errors": dict(errors),
        "client_cores": client_cores,
    }  # fmt: skip


# --- the whole run ------------------------------------------------------------------------------


def run(home: Path, *, workers: tuple[int, ...] = (2, 4)) -> dict[str, Any]:
    """Measure the dashboard over ``home``: callbacks and page loads with the first worker count,
    then the load test with each worker count.

    Pages an officer may open are measured as an officer (who sees small cells suppressed,
    as mayors do), the others as an admin.
    """
    events = prepare(home)
    pool = periods(home, PERIOD_MONTHS)
    # page loads by URL: 12 months, as the default view (the last 12 full months), but others
    years = periods(home, range(12, 13))
    years = [period for period in years if period[1] != max(end for _start, end in years)]
    results: dict[str, Any] = {"events": events, "workers": workers[0], "periods": len(pool), "load": []}
    results["profile_periods"] = pool  # a profile runs in a process of its own: every period is new there
    with server(home, workers[0]) as base:
        clients, groups = _sessions(base)
        print(f"pages: {groups}", flush=True)
        dependencies = clients[ADMIN].get("/_dash-dependencies").json()
        loads: list[browser.PageLoads] = []
        owner: dict[str, str] = {}
        page_profiles: list[dict[str, Any]] = []
        used = 0
        for user, paths in groups.items():
            with browser.browser_page(base, user, PASSWORD) as tab:
                recorded = [browser.record(tab, base, path) for path in paths]
                for page in recorded:
                    browser.time_loads(tab, base, page, years[used % len(years) :] + years, PAGE_LOADS)
                    used += PAGE_LOADS
                    owner[page.path] = user
                    if max(page.p50("cold"), page.p50("warm"), page.p50("menu")) >= GOAL_PAGE_MS:
                        page_profiles.append(browser.profile_page(tab, base, page))
                    print(f"{page.path}: {len(page.bodies)} callbacks, cold {page.cold}, warm {page.warm}, "
                          f"menu {page.menu}", flush=True)  # fmt: skip
            loads += recorded
        pages = {page.path: [Callback(page.path, body) for body in page.bodies] for page in loads}
        callbacks = [c for page in loads for c in pages[page.path] + downloads(page.path, page.bodies, dependencies)]
        empty = [timed(clients[ADMIN], noop_body(n))[0] for n in range(EMPTY)]
        timings = []
        used = 0
        for callback in callbacks:
            client = clients[owner[callback.page]]
            timings.append(measure(client, callback, [pool[(used + k) % len(pool)] for k in range(COLD)]))
            timings[-1].role = "officer" if owner[callback.page] == OFFICER else "admin"
            used += COLD
            t = timings[-1]
            print(f"{t.label}: cold p50 {p(t.cold, 50):.1f} p95 {p(t.cold, 95):.1f}, "
                  f"warm p50 {p(t.warm, 50):.1f} p95 {p(t.warm, 95):.1f} ms", flush=True)  # fmt: skip
        for client in clients.values():
            client.close()
        results.update(empty=empty, timings=timings, pages=loads, callbacks=callbacks, owner=owner)
        results["page_profiles"] = page_profiles
        results["load"].append({"workers": workers[0], **load(base, pages, pool, LOAD_SECONDS)})
        print(results["load"][-1], flush=True)
    for count in workers[1:]:
        with server(home, count) as base:
            # recorded again: a new server runs the code on disk now, which others may have changed
            results["load"].append({"workers": count, **load(base, _record(base), pool, LOAD_SECONDS)})
            print(results["load"][-1], flush=True)
    return results


def _sessions(base: str) -> tuple[dict[str, httpx.Client], dict[str, list[str]]]:
    """The officer and the admin logged in, and the pages each is measured on."""
    clients = {user: login(base, user) for user in (OFFICER, ADMIN)}
    officer_paths = page_paths(clients[OFFICER])
    admin_only = [path for path in page_paths(clients[ADMIN]) if path not in officer_paths]
    return clients, {OFFICER: officer_paths, ADMIN: admin_only}


def _record(base: str) -> dict[str, list[Callback]]:
    """Every page's callbacks as Chromium sends them to the server at ``base``."""
    clients, groups = _sessions(base)
    for client in clients.values():
        client.close()
    pages: dict[str, list[Callback]] = {}
    for user, paths in groups.items():
        with browser.browser_page(base, user, PASSWORD) as tab:
            for path in paths:
                pages[path] = [Callback(path, body) for body in browser.record(tab, base, path).bodies]
    return pages


def slowest(results: dict[str, Any]) -> list[tuple[Callback, Timing]]:
    """The callbacks whose cold p95 misses the goal, slowest first; a chart's download only when
    its drawing meets the goal (both build the same data)."""
    pairs = sorted(zip(results["callbacks"], results["timings"], strict=True), key=lambda pair: -p(pair[1].cold, 95))
    over = [pair for pair in pairs if p(pair[1].cold, 95) >= GOAL_CALLBACK_MS]
    drawn = {callback.body["output"].split("-graph.")[0].lstrip(".") for callback, _ in over if not callback.download}
    return [(c, t) for c, t in over if not c.download or c.body["output"].removesuffix("-download.data") not in drawn]


def page_profile_table(profiles: list[dict[str, Any]]) -> str:
    """Where Chromium's main thread spends a slow page's load (self time by script)."""
    lines = [
        "| page | drawn | main thread busy | by script (self time) | DOM elements | of them in table views |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for row in profiles:
        busy = row["busy_ms"]
        top = ", ".join(f"{name} {ms:.0f} ms" for name, ms in list(busy.items())[:4])
        lines.append(
            f"| {row['path']} | {row['drawn_ms']:.0f} ms | {sum(busy.values()):.0f} ms | {top} "
            f"| {row['elements']:,} | {row['table_elements']:,} |"
        )
    return "\n".join(lines)


def tables(results: dict[str, Any]) -> str:
    """The markdown tables for README.md: callbacks, page loads, load."""
    empty = results["empty"]
    base = statistics.median(empty)
    lines = [
        f"Dashboard at {results['events']:,} events of six cities, gunicorn with {results['workers']} workers on "
        f"127.0.0.1. Round trip per callback in ms; cold = a period of {PERIOD_MONTHS.start}-{PERIOD_MONTHS.stop - 1} "
        f"months not asked for before (cache miss), "
        f"warm = the default view again ({COLD} cold / {WARM} warm requests each); "
        f"x empty = cold p50 / the empty callback's p50.",
        "",
        "| page | callback | as | cold p50 | cold p95 | warm p50 | warm p95 | x empty | response |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
        f"| – | empty callback (Dash's own round trip) | admin | {base:.1f} | {p(empty, 95):.1f} | – | – | 1x | – |",
    ]
    for timing in results["timings"]:
        page, _, name = timing.label.partition(" ")
        lines.append(
            f"| {page} | {name} | {timing.role} | {p(timing.cold, 50):.0f} | {p(timing.cold, 95):.0f} "
            f"| {p(timing.warm, 50):.1f} | {p(timing.warm, 95):.1f} | {p(timing.cold, 50) / base:.0f}x "
            f"| {timing.kb:.0f} kB |"
        )
    lines += [
        "",
        f"Page fully drawn in Chromium (every callback answered, every graph drawn), ms from the navigation's "
        f"start, median of {PAGE_LOADS} loads (one, for a page whose first load took over "
        f"{browser.SLOW_MS / 1000:.0f} s):",
        "",
        "| page | as | callbacks | graphs | by URL, other 12 months | by URL, default again | via the menu "
        "| goal 1.5 s |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for page in results["pages"]:
        worst = max(page.p50("cold"), page.p50("warm"), page.p50("menu"))
        role = results["owner"][page.path].removeprefix("bench-")
        lines.append(
            f"| {page.path} | {role} | {len(page.bodies)} | {page.graphs} "
            f"| {page.p50('cold'):.0f} | {page.p50('warm'):.0f} "
            f"| {page.p50('menu'):.0f} | {'met' if worst < GOAL_PAGE_MS else 'missed'} |"
        )
    lines += [
        "",
        f"{SESSIONS} sessions at once for {LOAD_SECONDS:.0f} s, each its own user (roles in turn), opening its pages "
        f"in turn with a random period out of {results['periods']} ({PERIOD_MONTHS.start}-{PERIOD_MONTHS.stop - 1} "
        f"months) and sending each page's callbacks one after "
        f"another without pause:",
        "",
        "| workers | requests | per second | p50 | p95 | max | errors | CPU of the 30 clients |",
        "|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in results["load"]:
        errors = ", ".join(f"{count} {kind}" for kind, count in row["errors"].items()) or "0"
        lines.append(
            f"| {row['workers']} | {row['requests']:,} | {row['per_second']:.1f} | {row['p50_ms']:.0f} ms "
            f"| {row['p95_ms']:.0f} ms | {row['max_ms']:.0f} ms | {errors} | {row['client_cores']:.2f} cores |"
        )
    return "\n".join(lines)


def save(results: dict[str, Any], folder: Path) -> None:
    """The raw figures as JSON beside the tables."""
    data = {
        "events": results["events"], "workers": results["workers"], "empty_ms": results["empty"],
        "callbacks": [{"label": t.label, "cold_ms": t.cold, "warm_ms": t.warm, "kb": t.kb} for t in results["timings"]],
        "pages": [{"path": pg.path, "callbacks": len(pg.bodies), "cold_ms": pg.cold, "warm_ms": pg.warm,
                   "menu_ms": pg.menu} for pg in results["pages"]],
        "load": results["load"],
    }  # fmt: skip
    folder.mkdir(exist_ok=True)
    (folder / "dashboard.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
