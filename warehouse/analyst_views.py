"""The analyst views and what their columns mean, for the SQL page's schema browser.

The views are the stable interface of the warehouse for analysts (README,
"Analyst schema"); the tables behind them are internal and not listed. A test
checks that every column of every view is described here.
"""

from __future__ import annotations

#: the analyst views, the stable interface documented in the README; the tables behind them are internal
ANALYST_VIEWS: dict[str, str] = {
    "events": "one row per canonical usage event (event-level cities only)",
    "daily": "counts per local day: event cities rolled up plus Wetzlar's delivered counts",
    "cities": "the cities of the cooperation",
    "populations": "every population figure of the cities, by reference date",
    "services": "the service catalogue",
    "pipeline_runs": "one row per pipeline run",
    "quarantine": "rejected rows, one per distinct rejected content and city",
}
_STAGE_COUNT = "number of steps of that stage"
COLUMN_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "events": {
        "city": "city slug",
        "event_id": "the city's id of the event, unique per city",
        "occurred_at": "when the step happened",
        "service_key": "LeiKa service key (14 digits), see services",
        "channel": "online, app, in_person, phone, email, post",
        "stage": "started, submitted (a transaction), completed, rejected, abandoned",
        "case_id": "pseudonym linking the events of one case; NULL if not delivered",
        "user_seconds": "time the citizen spent on this step; NULL if not delivered",
        "eid": "the online ID function was used; NULL if not delivered",
        "epayment": "paid online; NULL if not delivered",
        "device": "desktop, mobile, tablet (online/app only); NULL if not delivered",
        "rating": "satisfaction 1..5 (5 best); NULL if none given",
    },
    "daily": {
        "city": "city slug",
        "day": "local calendar day (Europe/Berlin)",
        "service_key": "LeiKa service key",
        "channel": "channel",
        **{stage: _STAGE_COUNT for stage in ("started", "submitted", "completed", "rejected", "abandoned")},
    },
    "cities": {
        "slug": "city slug, as in the city column of the other views",
        "name": "the city's name",
        "ags": "official municipality key",
        "district": "the district the city belongs to",
        "population": "inhabitants (the latest figure)",
        "population_date": "reference date of the latest population figure",
    },
    "populations": {
        "city": "city slug",
        "reference_date": "the date the figure refers to",
        "population": "inhabitants; per-1,000 KPIs use the latest figure on or before a period's end",
    },
    "services": {
        "service_key": "LeiKa service key",
        "name_de": "German name",
        "name_en": "English name",
        "ozg_theme": "OZG theme",
        "ozg_id": "OZG service id",
    },
    "pipeline_runs": {
        "run_id": "run number",
        "city": "city slug",
        "started_at": "start",
        "ended_at": "end",
        "status": "running, succeeded, failed, aborted (the process died; nothing of it was committed)",
        "source": "the folder or URL read",
        "rows_read": "records read (an unreadable file counts as one)",
        "rows_loaded": "rows new or changed in the warehouse",
        "rows_duplicate": "rows already loaded unchanged, or superseded by a later row of the same run",
        "rows_conflicting": "of the superseded rows, those whose content differed",
        "rows_quarantined": "rows rejected",
        "quarantined_by_reason": "rows rejected per reason",
        "units_seen": "files, pages or exports seen",
        "units_skipped": "files, pages or exports skipped as unchanged",
        "unmapped_names": "service names without a key in the city's name table, with their counts",
        "dropped_columns": "delivered columns that are not in the contract",
        "error": "why a run failed",
    },
    "quarantine": {
        "city": "city slug",
        "reason": "quarantine reason",
        "detail": "what is wrong, naming the field and value",
        "source": "file, page or export the row came from",
        "row_number": "record number within the source (NULL for a whole unreadable file)",
        "raw": "the delivered values as JSON, personal data masked",
        "first_run": "the run that first delivered it",
        "last_run": "the run that last delivered it",
    },
}
