"""`egovsad schedule`: the pipelines on their cron schedules, as the one writer.

One job per city, cron from the city's settings in Europe/Berlin time. A job
never runs twice at once (``max_instances=1``), missed runs are coalesced into
one, and the file lock serialises the runs of different cities with any
``egovsad ingest``. A run that fails is tried again after an exponential
back-off. SIGTERM and SIGINT stop the scheduler after the run in progress has
committed (or rolled back); a run still waiting for its turn is not started, and
nothing is left half written.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from egovsad.config import Config
from egovsad.freshness import BERLIN, city_trigger
from egovsad.ingest import ingest_cities
from pipelines.run import RunResult
from warehouse.errors import WarehouseError
from warehouse.load import RunTotals

log = logging.getLogger(__name__)


#: how long a run waits for its turn before saying so in the log
NOTICE_AFTER_SECONDS = 0.5


class CityJobs:
    """The jobs of the scheduler; ``stopping`` cuts back-off waits short on shutdown.

    The scheduler's own runs take turns (one writer at a time anyway) in a way a stop
    can interrupt: a job still waiting for its turn when SIGTERM comes does not start.
    """

    def __init__(self, settings: Config) -> None:
        self.settings = settings
        self.stopping = threading.Event()
        self._turn = threading.Lock()

    def _take_turn(self, city: str) -> bool:
        """Wait until no other run of this scheduler is going; False if stopping meanwhile."""
        notice_at = time.monotonic() + NOTICE_AFTER_SECONDS
        while not self._turn.acquire(timeout=0.1):
            if self.stopping.is_set():
                return False
            if notice_at and time.monotonic() >= notice_at:
                log.info("%s: waiting for the writer lock", city)
                notice_at = 0.0
        if self.stopping.is_set():
            self._turn.release()
            return False
        return True

    def _attempt(self, city: str) -> RunResult | None:
        """One run of ``city``; None when the scheduler stopped before it could start."""
        if not self._take_turn(city):
            return None
        try:
            [result] = ingest_cities(
                self.settings, [city], on_wait=lambda: log.info("%s: waiting for the writer lock", city)
            )
        except WarehouseError as error:
            # the warehouse itself could not be opened (held by a foreign process, disk full):
            # no run record can be written, but the attempt failed and is retried like any other
            log.error("%s: the run could not start: %s", city, error)
            result = RunResult(city, 0, "failed", RunTotals(), str(error))
        finally:
            self._turn.release()
        return result

    def run(self, city: str) -> RunResult | None:
        """One scheduled run of ``city``, with the configured retries after failures."""
        retries = int(self.settings.city(city, "retries"))
        delay = float(self.settings.city(city, "retry_backoff_seconds"))
        result = None
        for attempt in range(1, retries + 2):
            outcome = self._attempt(city)
            if outcome is None:
                log.info("%s: not started: the scheduler is stopping", city)
                return result
            result = outcome
            if result.ok:
                return result
            if attempt > retries:
                break
            log.warning("%s: run failed (%s); attempt %d of %d in %g s", city, result.error, attempt + 1,
                        retries + 1, delay)  # fmt: skip
            if self.stopping.wait(delay):
                log.warning("%s: run failed (%s); not tried again: the scheduler is stopping", city, result.error)
                return result
            delay *= 2
        assert result is not None
        log.error("%s: failed after %d attempts: %s", city, retries + 1, result.error)
        return result


def build_scheduler(settings: Config, jobs: CityJobs) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=BERLIN,
        executors={"default": ThreadPoolExecutor(max_workers=len(settings.cities))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for city in settings.cities:
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
