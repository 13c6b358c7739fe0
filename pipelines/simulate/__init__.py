"""Deterministic simulator of the six cities' deliveries, and a feed server for the HTTP ones.

`simulate()` writes plausible usage data in each city's own format (data contract, section 5),
calibrated to published figures and spoilt at a chosen rate with the faults the pipelines must
catch. `FeedServer` serves Marburg's paginated API and Limburg's export from those files.
"""

from .faults import FaultKind
from .run import CityOutput, SimulationError, SimulationSummary, simulate
from .server import Fault, FeedServer, serve_forever

__all__ = [
    "CityOutput",
    "Fault",
    "FaultKind",
    "FeedServer",
    "SimulationError",
    "SimulationSummary",
    "serve_forever",
    "simulate",
]
