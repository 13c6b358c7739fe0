"""Small cells hidden in the views of mayors and officers, with secondary suppression."""

from __future__ import annotations

import polars as pl

from egovsad.kpi_output import kpi_table
from warehouse.kpis import KPIS
from warehouse.suppression import suppress


def _counts(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"city": pl.String, "service": pl.String, "value": pl.Float64}, orient="row"
    ).with_columns(numerator=pl.lit(None, pl.Float64), denominator=pl.lit(None, pl.Float64))


def test_a_single_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it() -> None:
    table = _counts(
        [
            ("giessen", "A", 3), ("giessen", "B", 40), ("giessen", "C", 12),
            ("fulda", "A", 20), ("fulda", "B", 30), ("fulda", "C", 50),
        ]
    )  # fmt: skip

    marked = suppress(table, ("city", "service"), rate=False)

    hidden = marked.filter("suppressed")
    cells = set(zip(hidden["city"], hidden["service"], strict=True))
    # primary: giessen A (3); its row would give it away -> giessen C (12), its column -> fulda A (20)
    assert {("giessen", "A"), ("giessen", "C"), ("fulda", "A")} <= cells
    for line in ("city", "service"):  # no row or column keeps a single hidden cell
        counts = marked.group_by(line).agg(pl.col("suppressed").sum())["suppressed"].to_list()
        assert 1 not in counts, (line, counts)


def test_zero_and_large_counts_stay_visible() -> None:
    table = _counts([("giessen", "A", 0), ("giessen", "B", 5), ("fulda", "A", 7)])

    assert suppress(table, ("city", "service"), rate=False)["suppressed"].to_list() == [False, False, False]


def test_a_rate_with_a_small_denominator_is_not_shown_and_its_parts_are_hidden() -> None:
    result = pl.DataFrame(
        {"city": ["giessen", "fulda"], "value": [0.5, 0.25], "numerator": [2.0, 10.0], "denominator": [4.0, 40.0]}
    )

    shown = kpi_table(KPIS["digital_takeup"], result, ("city",), min_cell=5)

    assert shown.rows() == [("giessen", None, None, None, True), ("fulda", None, None, None, True)]


def test_a_rate_over_nothing_is_not_reported_and_hides_no_other_city() -> None:
    # Fulda reports no eID at all: its share is "not reported", not a small cell, so
    # Limburg's 96 cases need no secondary suppression
    result = pl.DataFrame(
        {"city": ["fulda", "limburg", "giessen"], "value": [None, 0.25, 0.3], "numerator": [0.0, 24.0, 30.0],
         "denominator": [0.0, 96.0, 100.0]},
        schema_overrides={"value": pl.Float64},
    )  # fmt: skip

    assert suppress(result, ("city",), rate=True)["suppressed"].to_list() == [False, False, False]


def test_a_suppressed_count_reads_less_than_five() -> None:
    result = pl.DataFrame(
        {"city": ["giessen", "fulda", "marburg"], "value": [3.0, 9.0, 20.0], "numerator": [None] * 3,
         "denominator": [None] * 3},
        schema_overrides={"numerator": pl.Float64, "denominator": pl.Float64},
    )  # fmt: skip

    shown = kpi_table(KPIS["transactions"], result, ("city",), min_cell=5)

    assert shown["value"].to_list() == ["<5", "<5", "20"]  # fulda goes too: the total would reveal giessen
