"""The user store: SQLite under the home folder, passwords hashed with scrypt.

Roles (ARCHITECTURE.md, "Security model"): mayor, officer, analyst, admin; every
user but an admin has a home city. Failed logins are counted per user: after
``MAX_FAILURES`` within ``LOCKOUT`` further attempts are refused for ``LOCKOUT``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROLES = ("mayor", "officer", "analyst", "admin")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# usernames name folders (the SQL page's exports) and appear in logs: a safe alphabet only
USERNAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
# scrypt parameters (RFC 7914 interactive-login strength): 16 MiB memory per hash
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024}

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    city TEXT,
    password TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
"""


class UserError(Exception):
    """A user request that cannot be carried out; the message says why."""


class LockedOut(UserError):
    """Too many failed logins for this user recently."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    city: str | None

    def can(self, role: str) -> bool:
        """Whether this user has ``role``'s rights (roles are ordered mayor < ... < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _scheme, n, r, p, salt, digest = stored.split("$")
    computed = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=SCRYPT["maxmem"]
    )
    return hmac.compare_digest(computed.hex(), digest)


class UserStore:
    """Users and their failed logins in ``users.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(self, username: str, role: str, city: str | None, password: str) -> User:
        """Create a user; raises UserError for a bad role, missing city, weak password or duplicate."""
        if not USERNAME.fullmatch(username):
            raise UserError("a username is 1-64 letters, digits, '.', '_' or '-', not starting with '.'")
        if role not in ROLES:
            raise UserError(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
        if role != "admin" and not city:
            raise UserError(f"a {role} needs a home city (--city)")
        _check_strength(password)
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    (username, role, city, hash_password(password), datetime.now(UTC).isoformat()),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"user '{username}' exists already") from None
        return User(username, role, city)

    def passwd(self, username: str, password: str) -> None:
        _check_strength(password)
        with self._db() as db:
            changed = db.execute(
                "UPDATE users SET password = ? WHERE username = ?", (hash_password(password), username)
            ).rowcount
        if not changed:
            raise UserError(f"no user '{username}'")

    def remove(self, username: str) -> None:
        with self._db() as db:
            if not db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount:
                raise UserError(f"no user '{username}'")
            db.execute("DELETE FROM login_failures WHERE username = ?", (username,))

    def get(self, username: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT username, role, city FROM users WHERE username = ?", (username,)).fetchone()
        return None if row is None else User(*row)

    def all(self) -> list[User]:
        with self._db() as db:
            return [User(*row) for row in db.execute("SELECT username, role, city FROM users ORDER BY username")]

    def authenticate(self, username: str, password: str, *, now: datetime | None = None) -> User | None:
        """The user if the password is right; None otherwise (the failure is counted).

        Raises LockedOut while the user has MAX_FAILURES failures within LOCKOUT; the
        password is then not even checked.
        """
        now = now or datetime.now(UTC)
        since = (now - LOCKOUT).isoformat()
        with self._db() as db:
            # one writer at a time across worker processes: the count and the new failure
            # belong together, or parallel attempts could exceed the limit
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM login_failures WHERE failed_at <= ?", (since,))  # keeps the table small
            failures = db.execute(
                "SELECT count(*) FROM login_failures WHERE username = ? AND failed_at > ?", (username, since)
            ).fetchone()[0]
            if failures >= MAX_FAILURES:
                raise LockedOut(f"too many failed logins for '{username}'; try again in 15 minutes")
            row = db.execute("SELECT role, city, password FROM users WHERE username = ?", (username,)).fetchone()
            # an unknown user costs one hash check too, so timing does not tell who exists
            stored = row[2] if row else _DUMMY_HASH
            if check_password(password, stored) and row is not None:
                db.execute("DELETE FROM login_failures WHERE username = ?", (username,))
                return User(username, row[0], row[1])
            db.execute("INSERT INTO login_failures VALUES (?, ?)", (username, now.isoformat()))
            return None


_DUMMY_HASH = hash_password(secrets.token_hex(16))


def _check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
