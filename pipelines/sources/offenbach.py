"""Offenbach's delivery is described as data (``offenbach.toml``, read by the generic adapter).

Its mapping and file dates are named here for code that reads Offenbach-shaped
Parquet parts from another folder (the benchmarks load simulated feeds that way).
"""

from __future__ import annotations

from pipelines.delivery import shipped

DELIVERY = shipped("offenbach")
MAPPING = DELIVERY.mapping
dated = DELIVERY.dated
