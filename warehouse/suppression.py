"""Small-cell suppression for the views of mayors and officers (data contract, section 7).

A count from 1 to ``min_cell - 1`` is suppressed, and a rate whose denominator
is from 1 to ``min_cell - 1`` (a rate over nothing is "not reported", not hidden).
Secondary suppression: where a group of cells that differ in one dimension only
(a row or column of the table, whose total can be shown elsewhere) has exactly
one suppressed cell, the smallest other cell is suppressed too, so that the
hidden value cannot be recomputed from the total; this repeats until no such
group is left.
"""

from __future__ import annotations

import polars as pl


def suppress(result: pl.DataFrame, by: tuple[str, ...], *, rate: bool, min_cell: int = 5) -> pl.DataFrame:
    """``result`` (from the KPI registry) with a boolean ``suppressed`` column added.

    The size of a cell is its value for counts and its denominator for rates; a cell
    without a size (a median) is never suppressed here.
    """
    size = pl.col("denominator") if rate else pl.col("value")
    frame = result.with_row_index("_cell").with_columns(
        size.alias("_size"),
        # an empty cell (count 0, or a rate over nothing) hides nobody: it is 0 or "not reported"
        (size.is_not_null() & (size < min_cell) & (size > 0)).alias("suppressed"),
    )
    changed = True
    while changed and by:
        changed = False
        for dim in by:
            extra = frame.select(_secondary([other for other in by if other != dim])).to_series()
            if extra.any():
                frame = frame.with_columns(pl.col("suppressed") | extra)
                changed = True
    return frame.drop("_cell", "_size")


def _secondary(others: list[str]) -> pl.Expr:
    """Per group of cells equal in ``others``: true for the smallest shown cell of a group
    with exactly one suppressed cell (ties: the first cell), in one vectorised pass."""

    def per_group(expr: pl.Expr) -> pl.Expr:
        return expr.over(others) if others else expr

    shown = ~pl.col("suppressed") & pl.col("_size").is_not_null() & (pl.col("_size") > 0)
    hidden = per_group(pl.col("suppressed").sum())
    smallest = per_group(pl.when(shown).then(pl.col("_size")).min())
    first = per_group(pl.when(shown & (pl.col("_size") == smallest)).then(pl.col("_cell")).min())
    return ((hidden == 1) & (pl.col("_cell") == first)).fill_null(False)
