"""The dashboard's server: every route behind the login, Dash's own included."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from dashboard.app import create_app, user_store
from egovsad import config as configuration
from tests.conftest import SAMPLES, ingest

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> configuration.Config:
    home = tmp_path_factory.mktemp("dash") / "home"
    settings = configuration.load(home, environ={})
    for city in ("giessen", "wetzlar"):
        ingest(settings, city, SAMPLES / city)
    store = user_store(settings)
    store.add("mayor-ma", "mayor", "marburg", PASSWORD)
    store.add("victim", "officer", "giessen", PASSWORD)
    return settings


@pytest.fixture(scope="module")
def app(settings: configuration.Config):  # type: ignore[no-untyped-def]
    return create_app(settings).server


@pytest.fixture
def client(app) -> Iterator[FlaskClient]:  # type: ignore[no-untyped-def]
    with app.test_client() as client:
        yield client


def _login(client: FlaskClient, username: str, password: str) -> int:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token[1]})
    return response.status_code


@pytest.mark.parametrize("path", ["/", "/anything", "/uebersicht"])
def test_pages_without_a_session_redirect_to_the_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_login_form_has_the_named_fields_and_refuses_a_missing_csrf_token(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in page and 'name="password"' in page
    assert client.post("/login", data={"username": "mayor-ma", "password": PASSWORD}).status_code == 400


def test_a_session_opens_the_pages_and_dash_routes_and_logout_ends_it(client: FlaskClient) -> None:
    assert _login(client, "mayor-ma", PASSWORD) == 302
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"

    client.get("/logout")

    assert client.get("/_dash-layout").status_code == 401


def test_five_failures_lock_the_user_out_and_are_audited(client: FlaskClient, settings: configuration.Config) -> None:
    statuses = [_login(client, "victim", "wrong-password") for _ in range(5)]
    statuses.append(_login(client, "victim", PASSWORD))  # even the right password now

    assert statuses == [401] * 5 + [429]
    audit = (settings.log_dir / "audit.log").read_text(encoding="utf-8")
    assert audit.count('"event": "login_failed", "user": "victim"') == 5
    assert '"event": "lockout", "user": "victim"' in audit


def test_security_headers_and_no_caching_of_data(client: FlaskClient) -> None:
    _login(client, "mayor-ma", PASSWORD)
    response = client.get("/_dash-layout")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_secret_key_is_generated_once_readable_by_its_owner_only(settings: configuration.Config) -> None:
    key = settings.home / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32


def test_a_login_post_without_a_session_token_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_client() as fresh:
        empty = fresh.post("/login", data={"username": "mayor-ma", "password": PASSWORD, "csrf_token": ""})
        odd = fresh.post("/login", data={"username": "mayor-ma", "password": PASSWORD, "csrf_token": "ä"})
    assert (empty.status_code, odd.status_code) == (400, 400)
