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
            others = [other for other in by if other != dim]
            groups = frame.group_by(others or pl.lit(0), maintain_order=True) if others else [((), frame)]
            extra: list[int] = []
            for _key, group in groups:
                hidden = group.filter(pl.col("suppressed"))
                shown = group.filter(~pl.col("suppressed") & pl.col("_size").is_not_null() & (pl.col("_size") > 0))
                if hidden.height == 1 and shown.height >= 1:
                    extra.append(int(shown.sort("_size")["_cell"][0]))
            if extra:
                frame = frame.with_columns(pl.col("suppressed") | pl.col("_cell").is_in(extra))
                changed = True
    return frame.drop("_cell", "_size")
