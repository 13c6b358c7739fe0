"""`egovsad schedule`: the pipelines on their cron schedules, as the one writer.

One job per city, cron from the city's settings in Europe/Berlin time. A job
never runs twice at once (``max_instances=1``), missed runs are coalesced into
one, and the file lock serialises the runs of different cities with any
``egovsad ingest``. A run that fails is tried again after an exponential
back-off. SIGTERM and SIGINT stop the scheduler after the run in progress has
committed (or rolled back); nothing is left half written.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from egovsad.config import CITIES, Config
from egovsad.freshness import BERLIN, city_trigger
from egovsad.ingest import ingest_cities
from pipelines.run import RunResult

log = logging.getLogger(__name__)


class CityJobs:
    """The jobs of the scheduler; ``stopping`` cuts back-off waits short on shutdown."""

    def __init__(self, settings: Config) -> None:
        self.settings = settings
        self.stopping = threading.Event()

    def run(self, city: str) -> RunResult | None:
        """One scheduled run of ``city``, with the configured retries after failures."""
        retries = int(self.settings.city(city, "retries"))
        delay = float(self.settings.city(city, "retry_backoff_seconds"))
        result = None
        for attempt in range(retries + 1):
            if self.stopping.is_set():
                break
            [result] = ingest_cities(
                self.settings, [city], on_wait=lambda: log.info("%s: waiting for the writer lock", city)
            )
            if result.ok:
                return result
            if attempt < retries:
                log.warning("%s: run failed (%s); attempt %d of %d in %.0f s", city, result.error, attempt + 2,
                            retries + 1, delay)  # fmt: skip
                if self.stopping.wait(delay):
                    break
                delay *= 2
        log.error("%s: failed after %d attempts: %s", city, retries + 1, result.error if result else "stopped")
        return result


def build_scheduler(settings: Config, jobs: CityJobs) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=BERLIN,
        executors={"default": ThreadPoolExecutor(max_workers=len(CITIES))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for city in CITIES:
        scheduler.add_job(jobs.run, trigger=city_trigger(settings, city), args=[city], id=city, name=city)

    def report(event: JobExecutionEvent) -> None:
        log.error("job %s raised %r", event.job_id, event.exception)

    scheduler.add_listener(report, EVENT_JOB_ERROR)
    return scheduler


def run_scheduler(settings: Config) -> None:
    """Run until SIGTERM or SIGINT, then finish the runs in progress and return."""
    jobs = CityJobs(settings)
    scheduler = build_scheduler(settings, jobs)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping after the runs in progress", signal.Signals(signum).name)
        jobs.stopping.set()
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info("scheduled %s: next run %s", job.id, job.next_run_time)
    stop.wait()
    scheduler.shutdown(wait=True)
    log.info("scheduler stopped")
