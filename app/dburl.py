"""Database URLs as platforms hand them out, made into what SQLAlchemy's async drivers accept.

Heroku, Render, Fly and friends give `postgres://user:pw@host/db?sslmode=require`: the libpq spelling.
asyncpg takes none of libpq's query parameters as such (SQLAlchemy passes the query through as keyword
arguments), so they are translated here into asyncpg's `connect()` arguments.
"""

from __future__ import annotations

import shlex
import ssl
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
SSL_FILES = ("sslrootcert", "sslcert", "sslkey")
LIBPQ = {"sslmode", *SSL_FILES, "application_name", "connect_timeout", "options"}
# Query parameters SQLAlchemy's asyncpg dialect itself understands; passed through untouched.
ASYNCPG = {"host", "prepared_statement_cache_size", "target_session_attrs"}
POSTGRES_DRIVERS = {"", "asyncpg", "psycopg2", "psycopg", "pg8000"}
SQLITE_DRIVERS = {"", "aiosqlite", "pysqlite"}
DEFAULT_CONNECT_TIMEOUT = 5.0


class DatabaseUrlError(ValueError):
    """The URL cannot be used; the message says why (and never repeats the password)."""


def normalise(raw: str) -> str:
    """The URL with the async driver (asyncpg, aiosqlite), its parameters checked; still a string."""
    url = parse(raw)
    backend, _, driver = url.drivername.partition("+")  # get_driver_name() would load a dialect for "postgres"
    if backend in ("postgres", "postgresql"):
        if driver not in POSTGRES_DRIVERS:
            raise DatabaseUrlError(f"driver {driver!r} is not supported; use postgresql://")
        url = url.set(drivername="postgresql+asyncpg")
        connect_arguments(url)  # check the query parameters now, at start-up
    elif backend == "sqlite":
        if driver not in SQLITE_DRIVERS:
            raise DatabaseUrlError(f"driver {driver!r} is not supported; use sqlite:///path.db")
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        raise DatabaseUrlError(f"{backend!r} is not supported; use postgresql://... or sqlite:///path.db")
    return url.render_as_string(hide_password=False)


def parse(raw: str) -> URL:
    try:
        return make_url(raw.strip())
    except ArgumentError:
        raise DatabaseUrlError("not a URL like postgresql://user@host/db or sqlite:///path.db") from None


def connect_arguments(url: URL) -> tuple[URL, dict[str, Any]]:
    """The URL without libpq's parameters, and the asyncpg `connect()` arguments they stand for."""
    query = dict(url.query)
    unknown = sorted(set(query) - LIBPQ - ASYNCPG)
    if unknown:
        raise DatabaseUrlError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(LIBPQ | ASYNCPG))})")
    if any(isinstance(value, tuple) for value in query.values()):
        raise DatabaseUrlError("a parameter is given twice")
    arguments: dict[str, Any] = {"timeout": _timeout(query.pop("connect_timeout", None))}
    server_settings = _options(query.pop("options", None))
    if "application_name" in query:
        server_settings["application_name"] = str(query.pop("application_name"))
    if server_settings:
        arguments["server_settings"] = server_settings
    files = {name: str(query.pop(name)) for name in SSL_FILES if name in query}
    mode = query.pop("sslmode", None)
    if mode is not None or files:
        arguments["ssl"] = ssl_argument(str(mode or "prefer"), files)
    return url.set(query=query), arguments


def ssl_argument(mode: str, files: dict[str, str]) -> str | ssl.SSLContext:
    """libpq's sslmode as asyncpg's `ssl=`: the mode's name, or a context when certificate files are named.

    asyncpg reads sslrootcert/sslcert/sslkey only from a DSN, never as arguments, so with files the
    context is built here the way libpq would: verify-full checks the name, verify-ca only the chain,
    require checks the chain only when a root certificate is given.
    """
    if mode not in SSL_MODES:
        raise DatabaseUrlError(f"sslmode {mode!r} is not one of {', '.join(SSL_MODES)}")
    if not files or mode in ("disable", "allow", "prefer"):
        return mode
    root = files.get("sslrootcert")
    try:
        context = ssl.create_default_context(cafile=None if root in (None, "system") else root)
        context.check_hostname = mode == "verify-full"
        if mode == "require" and root is None:
            context.verify_mode = ssl.CERT_NONE
        if "sslcert" in files:
            context.load_cert_chain(files["sslcert"], keyfile=files.get("sslkey"))
    except (OSError, ssl.SSLError) as error:
        raise DatabaseUrlError(f"cannot read the TLS files ({error})") from None
    return context


def _timeout(value: object) -> float:
    if value is None:
        return DEFAULT_CONNECT_TIMEOUT
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise DatabaseUrlError(f"connect_timeout {value!r} is not a number of seconds")
    # libpq: zero means wait forever; asyncpg needs a number.
    return seconds or 24 * 3600.0


def _options(value: object) -> dict[str, str]:
    """libpq's `options=-c search_path=app -c statement_timeout=5000` as server settings."""
    if value is None:
        return {}
    words = shlex.split(str(value))
    settings: dict[str, str] = {}
    while words:
        word = words.pop(0)
        if word == "-c" and words:
            word = words.pop(0)
        elif word.startswith(("-c", "--")):
            word = word[2:]
        else:
            raise DatabaseUrlError(f"options {value!r}: only '-c name=value' settings are supported")
        name, equals, setting = word.partition("=")
        if not equals or not name:
            raise DatabaseUrlError(f"options {value!r}: {word!r} is not name=value")
        settings[name.replace("-", "_")] = setting
    return settings


def describe(url: URL) -> str:
    """Where the URL points, for a message: database 'x' on host:port (never the password)."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    return f"database {url.database or url.username or ''!r} on {url.host or 'localhost'}:{url.port or 5432}"
