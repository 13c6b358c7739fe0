"""Detection and masking of personal data in text fields (contract section 7).

The logs are anonymised at the source; these patterns catch what slips through.
They are deliberately conservative about pseudonymous ids: a national phone
number must stand on its own (not after a hyphen, as in ``GI-0123456``), and an
IBAN needs its full length, so ordinary event and case ids are not flagged.
"""

from __future__ import annotations

import polars as pl

_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "ipv4": r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
    "ipv6": (
        r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b"
        r"|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b"
    ),
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b",
    "phone": r"(?:^|[\s:;,(])(?:(?:\+|00)[1-9][0-9 ()/-]{6,}[0-9]|0[1-9][0-9]{1,4}[ /-]?[0-9]{4,})",
}


def _ascii(pattern: str) -> str:
    """Unicode word boundaries and classes make Rust's regex engine ~15x slower on
    non-ASCII text (``Bürgerbüro``); the patterns only ever need ASCII."""
    return pattern.replace(r"\b", r"(?-u:\b)").replace(r"\d", "[0-9]").replace(r"\s", r"[ \t]")


PATTERNS = {kind: _ascii(pattern) for kind, pattern in _PATTERNS.items()}
_ANY = "|".join(f"(?:{pattern})" for pattern in PATTERNS.values())


def looks_personal(column: str) -> pl.Expr:
    """True where the text column holds something that looks like personal data."""
    return pl.col(column).cast(pl.String).str.contains(_ANY).fill_null(False)


def mask(expr: pl.Expr) -> pl.Expr:
    """Replace every personal-data match in a text expression with ``[<kind> masked]``."""
    for kind, pattern in PATTERNS.items():
        expr = expr.str.replace_all(pattern, f"[{kind} masked]")
    return expr
