"""The words and number formats on screen, German first (GLOSSARY.md), English on request.

The language is the session's choice (``/language/en``); every layout and callback
asks :func:`language` so a page and its charts always speak the same language.
"""

from __future__ import annotations

from datetime import date

import flask

LANGUAGES = ("de", "en")

#: key -> (Deutsch, English)
TEXT: dict[str, tuple[str, str]] = {
    # glossary
    "not_reported": ("nicht geliefert", "not reported"),
    "suppressed": ("< 5 (Datenschutz)", "< 5 (privacy)"),
    "stale": ("Daten veraltet", "data out of date"),
    "failed": ("Abruf fehlgeschlagen", "feed failed"),
    "fresh": ("aktuell", "up to date"),
    "period": ("Zeitraum", "period"),
    "previous_period": ("Vorperiode", "previous period"),
    "rank": ("Rang unter den Städten", "rank among the cities"),
    "quarantine": ("Quarantäne (abgewiesene Zeilen)", "quarantine (rejected rows)"),
    "logout": ("Abmelden", "log out"),
    # page names
    "page_overview": ("Übersicht", "Overview"),
    "page_compare": ("Vergleich", "Compare"),
    "page_services": ("Leistungen", "Services"),
    "page_channels": ("Kanäle", "Channels"),
    "page_sql": ("SQL", "SQL"),
    "page_pipelines": ("Pipelines", "Pipelines"),
    # chrome
    "pages": ("Seiten", "Pages"),
    "skip_to_content": ("Zum Inhalt springen", "Skip to content"),
    "other_language": ("English", "Deutsch"),
    "other_language_label": ("Switch to English", "Auf Deutsch umschalten"),
    "no_access": ("Kein Zugriff", "No access"),
    "no_access_text": (
        "Diese Seite ist für Ihre Rolle nicht freigegeben.",
        "This page is not available to your role.",
    ),
    "not_found": ("Seite nicht gefunden", "Page not found"),
    "no_data": ("Noch keine Daten: die erste Pipeline ist noch nicht gelaufen.", "No data yet: no pipeline has run."),
    "signed_in_as": ("Angemeldet als", "Signed in as"),
    "show_table": ("Tabelle anzeigen", "Show table"),
    "hide_table": ("Tabelle ausblenden", "Hide table"),
    "download_csv": ("CSV herunterladen", "Download CSV"),
    "print": ("Drucken", "Print"),
    "note": ("Hinweis", "note"),
    "home_city_marker": ("Heimatstadt", "home city"),
    # filters
    "city": ("Stadt", "City"),
    "cities": ("Städte", "Cities"),
    "service": ("Leistung", "Service"),
    "services": ("Leistungen", "Services"),
    "all_services": ("alle Leistungen", "all services"),
    "all_cities": ("alle Städte", "all cities"),
    "channel": ("Kanal", "Channel"),
    "kpi": ("Kennzahl", "KPI"),
    "from_month": ("von (Monat)", "from (month)"),
    "to_month": ("bis (Monat)", "to (month)"),
    "measure": ("Darstellung", "Measure"),
    "absolute": ("absolut", "absolute"),
    "per_1000": ("je 1.000 Einwohner", "per 1,000 inhabitants"),
    "month": ("Monat", "Month"),
    "value": ("Wert", "Value"),
    "share": ("Anteil", "Share"),
    "median_all": ("Median aller Städte", "median of all cities"),
    "no_data_period": ("Keine Daten im gewählten Zeitraum.", "No data in the chosen period."),
    "transactions_label": ("Vorgänge (eingereicht)", "transactions"),
    "digital_takeup_label": ("Digitalquote", "digital take-up"),
    # units and roles
    "role_mayor": ("Oberbürgermeister/in", "mayor"),
    "role_officer": ("Digitalbeauftragte/r", "digital officer"),
    "role_analyst": ("Analyst/in", "analyst"),
    "role_admin": ("Administrator/in", "administrator"),
    # channels and stages
    "channel_online": ("Online", "online"),
    "channel_app": ("App", "app"),
    "channel_in_person": ("vor Ort", "in person"),
    "channel_phone": ("Telefon", "phone"),
    "channel_email": ("E-Mail", "e-mail"),
    "channel_post": ("Post", "post"),
    "stage_started": ("begonnen", "started"),
    "stage_submitted": ("eingereicht", "submitted"),
    "stage_completed": ("abgeschlossen", "completed"),
    "stage_rejected": ("abgelehnt", "rejected"),
    "stage_abandoned": ("abgebrochen", "abandoned"),
}


def register(texts: dict[str, tuple[str, str]]) -> None:
    """Add a page's own words (the glossary's stay above); a key defined twice is a mistake.

    The same words again are not: Dash executes every page module anew for each app
    it builds (tests build several in one process).
    """
    clash = {key for key, words in texts.items() if TEXT.get(key, words) != words}
    if clash:
        raise ValueError(f"text keys defined twice: {', '.join(sorted(clash))}")
    TEXT.update(texts)


MONTHS = {
    "de": ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez."],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def language() -> str:
    """The session's language, German unless the user switched."""
    chosen = flask.session.get("lang") if flask.has_request_context() else None
    return chosen if chosen in LANGUAGES else "de"


def t(key: str, lang: str | None = None) -> str:
    de, en = TEXT[key]
    return en if (lang or language()) == "en" else de


def channel_name(channel: str, lang: str | None = None) -> str:
    return t(f"channel_{channel}", lang) if f"channel_{channel}" in TEXT else channel


def stage_name(stage: str, lang: str | None = None) -> str:
    return t(f"stage_{stage}", lang) if f"stage_{stage}" in TEXT else stage


def month_label(month: str, lang: str | None = None) -> str:
    """'2026-03' as 'März 2026' / 'Mar 2026'."""
    year, number = month.split("-")
    return f"{MONTHS[lang or language()][int(number) - 1]} {year}"


def number(value: float | None, decimals: int = 0, lang: str | None = None) -> str:
    """1.234,5 in German, 1,234.5 in English; None is "not reported", never 0."""
    if value is None:
        return t("not_reported", lang)
    text = f"{value:,.{decimals}f}"
    if (lang or language()) == "en":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(share: float | None, decimals: int = 1, lang: str | None = None) -> str:
    return t("not_reported", lang) if share is None else f"{number(share * 100, decimals, lang)} %"


def day(value: date, lang: str | None = None) -> str:
    return f"{value:%d.%m.%Y}" if (lang or language()) == "de" else value.isoformat()


def format_value(value: float | None, unit: str, lang: str | None = None) -> str:
    """A KPI value in its unit (registry units: count, share, rating, minutes, days, eur, ...)."""
    if value is None:
        return t("not_reported", lang)
    if unit == "share":
        return percent(value, 1, lang)
    if unit in ("eur",):
        return f"{number(value, 2, lang)} €"
    if unit == "eur_per_year":
        return f"{number(value, 0, lang)} €"
    if unit in ("rating", "minutes", "days", "per_1000"):
        return number(value, 1, lang)
    return number(value, 0, lang)


def axis_separators(lang: str | None = None) -> str:
    """Plotly's decimal and thousands marks for the language."""
    return ".," if (lang or language()) == "en" else ",."
