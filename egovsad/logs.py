"""Logging: run start and end lines to stderr and to a rotating file under the home folder."""

from __future__ import annotations

import logging
import logging.handlers

from egovsad.config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(settings: Config, *, verbose: bool = True) -> None:
    """Send INFO and above of eGovSAD's own loggers to stderr and ``logs/egovsad.log``."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    to_file = logging.handlers.RotatingFileHandler(
        settings.log_dir / "egovsad.log",
        maxBytes=int(settings.values["logs.max_bytes"]),
        backupCount=int(settings.values["logs.backups"]),
        encoding="utf-8",
    )
    to_stderr = logging.StreamHandler()
    to_stderr.setLevel(logging.INFO if verbose else logging.WARNING)
    formatter = logging.Formatter(FORMAT)
    root = logging.getLogger()
    for handler in (to_file, to_stderr):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("egovsad", "pipelines", "warehouse"):
        logging.getLogger(name).setLevel(logging.INFO)
