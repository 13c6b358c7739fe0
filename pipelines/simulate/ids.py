"""Identifiers and counter-based randomness that do not depend on the simulated period.

An event is numbered by the local day its case started and its place in that day, so the
same seed gives the same event ids, case ids and faults for a day whatever period is asked
for: a later run with a later `end` extends the earlier deliveries instead of contradicting
them (idempotent loads by event_id stay meaningful across simulator runs).
"""

from __future__ import annotations

import numpy as np

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_M40 = np.uint64((1 << 40) - 1)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
DAY_SLOTS = 1_000_000  # events per case-start day and city that fit into one event number


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a well-mixed 64-bit hash of each 64-bit input."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def keyed_hash(seed: int, stream: int, values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of `values` that differs per seed and per stream (city, purpose)."""
    key = splitmix64(np.array([((seed & 0xFFFFFFFF) << 32) | (stream & 0xFFFFFFFF)], np.uint64))[0]
    return splitmix64(values.astype(np.uint64) ^ key)


def unit_interval(hashes: np.ndarray) -> np.ndarray:
    """Map 64-bit hashes to floats uniform in [0, 1)."""
    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def case_numbers(seed: int, stream: int, day_ordinals: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """A unique 40-bit pseudonym per (day, rank in day): a keyed bijection on 40 bits, so two
    cases never share an id and the number reveals nothing about the order of cases."""
    x = (day_ordinals.astype(np.uint64) << np.uint64(20)) | ranks.astype(np.uint64)
    key = keyed_hash(seed, stream, np.array([0x5EED]))[0]
    x = (x ^ key) & _M40
    for mult, shift in ((0xD6E8FEB86659FD93 & 0xFFFFFFFFFF, 19), (0x9E3779B97F, 21)):
        x = (x * np.uint64(mult | 1)) & _M40  # odd multiplier: a bijection modulo 2**40
        x ^= x >> np.uint64(shift)  # xor-shift: also a bijection
    return x


def hex40(numbers: np.ndarray) -> np.ndarray:
    """Format 40-bit numbers as 10 lower-case hex digits, vectorised."""
    shifts = np.arange(36, -1, -4, dtype=np.uint64)
    digits = (numbers.astype(np.uint64)[:, None] >> shifts) & np.uint64(0xF)
    chars = _HEX[digits.astype(np.intp)]
    return np.frombuffer(np.ascontiguousarray(chars).tobytes(), dtype="S10").astype(str)


def event_numbers(yyyymmdd: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Event number = case-start day as YYYYMMDD, then a six-digit sequence within that day."""
    if seq.size and int(seq.max()) >= DAY_SLOTS:
        raise OverflowError("more than a million events a day in one city; lower the scale")
    return yyyymmdd.astype(np.int64) * DAY_SLOTS + seq.astype(np.int64)
