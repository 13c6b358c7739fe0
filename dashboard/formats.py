"""Numbers the German way (1.234,5; 45,2 %), and "nicht geliefert" for NULL, never 0."""

from __future__ import annotations

NOT_REPORTED = "nicht geliefert"


def number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return NOT_REPORTED
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(share: float | None, decimals: int = 1) -> str:
    return NOT_REPORTED if share is None else f"{number(share * 100, decimals)} %"
