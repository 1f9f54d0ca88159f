"""DATABASE_URL as platforms hand it out: libpq's spelling, translated for asyncpg."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import Database
from app.dburl import connect_arguments
from app.settings import ConfigError, database_url

pytestmark = pytest.mark.both_databases


def engine_arguments(raw: str) -> tuple[str, dict[str, object]]:
    """What the engine is made with: the URL (password shown) and asyncpg's connect() arguments."""
    url, arguments = connect_arguments(make_url(database_url(raw)))
    return url.render_as_string(hide_password=False), arguments


@pytest.mark.parametrize("raw, expected", [
    ("postgres://u:p%40ss@db.example.com:6543/prod", "postgresql+asyncpg://u:p%40ss@db.example.com:6543/prod"),
    ("postgresql://u@db.example.com/prod", "postgresql+asyncpg://u@db.example.com/prod"),
    ("postgresql+asyncpg://u@db.example.com/prod", "postgresql+asyncpg://u@db.example.com/prod"),
    ("postgresql+psycopg2://u@db.example.com/prod", "postgresql+asyncpg://u@db.example.com/prod"),
    ("sqlite:///incidents.db", "sqlite+aiosqlite:///incidents.db"),
    ("sqlite:////var/data/incidents.db", "sqlite+aiosqlite:////var/data/incidents.db"),
    ("sqlite+aiosqlite:///./incidents.db", "sqlite+aiosqlite:///./incidents.db"),
])
def test_each_form_gets_the_async_driver(raw: str, expected: str) -> None:
    assert database_url(raw) == expected


def test_no_url_means_the_sqlite_file() -> None:
    assert database_url(None) == "sqlite+aiosqlite:///./incidents.db"


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
def test_sslmode_becomes_asyncpg_s_ssl_mode(mode: str) -> None:
    url, arguments = engine_arguments(f"postgres://u@db.example.com/prod?sslmode={mode}")

    assert url == "postgresql+asyncpg://u@db.example.com/prod"
    assert arguments["ssl"] == mode


def test_application_name_connect_timeout_and_options_become_asyncpg_arguments() -> None:
    url, arguments = engine_arguments("postgresql://u@db/prod?application_name=incident-bot&connect_timeout=12"
                                      "&options=-c%20search_path%3Dops%20-c%20statement_timeout%3D5000")

    assert url == "postgresql+asyncpg://u@db/prod"
    assert arguments == {"timeout": 12.0, "server_settings": {"application_name": "incident-bot",
                                                              "search_path": "ops", "statement_timeout": "5000"}}


def test_without_parameters_the_connect_timeout_is_five_seconds() -> None:
    assert engine_arguments("postgres://u@db/prod")[1] == {"timeout": 5.0}


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA (doubling as the client certificate) and its key."""
    key, cert = directory / "client.key", directory / "client.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, cert, key


@pytest.mark.parametrize("mode, checks_name, verifies", [
    ("verify-full", True, ssl.CERT_REQUIRED),
    ("verify-ca", False, ssl.CERT_REQUIRED),
    ("require", False, ssl.CERT_REQUIRED),  # libpq: require with a root certificate checks the chain
])
def test_certificate_files_build_an_ssl_context(tmp_path: Path, mode: str, checks_name: bool,
                                                verifies: ssl.VerifyMode) -> None:
    root, cert, key = make_certificates(tmp_path)

    _, arguments = engine_arguments(f"postgres://u@db/prod?sslmode={mode}&sslrootcert={root}&sslcert={cert}"
                                    f"&sslkey={key}")

    context = arguments["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert (context.check_hostname, context.verify_mode) == (checks_name, verifies)
    assert context.get_ca_certs()[0]["subject"] == ((("commonName", "test"),),)


def test_require_with_only_a_client_certificate_does_not_check_the_server(tmp_path: Path) -> None:
    _, cert, key = make_certificates(tmp_path)

    _, arguments = engine_arguments(f"postgres://u@db/prod?sslmode=require&sslcert={cert}&sslkey={key}")

    context = arguments["ssl"]
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_NONE


@pytest.mark.parametrize("raw, named", [
    ("mysql://u@db/prod", "'mysql'"),
    ("postgresql+pg9000://u@db/prod", "pg9000"),
    ("postgres://u@db/prod?sslmode=sometimes", "sometimes"),
    ("postgres://u@db/prod?sslmod=require", "sslmod"),
    ("postgres://u@db/prod?connect_timeout=soon", "connect_timeout"),
    ("postgres://u@db/prod?sslmode=verify-full&sslrootcert=/no/such/root.crt", "TLS files"),
    ("not a url", "not a URL"),
])
def test_a_url_that_cannot_work_is_named_at_start_up(raw: str, named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        database_url(raw)

    assert str(raised.value).startswith("DATABASE_URL is malformed") and named in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_password_is_never_in_the_message() -> None:
    with pytest.raises(ConfigError) as raised:
        database_url("postgres://u:hunter2@db/prod?sslmode=sometimes")

    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize("mode", ["disable", "prefer"])
async def test_a_libpq_url_connects_to_postgresql(postgres_url: str | None, mode: str) -> None:
    if postgres_url is None:
        pytest.skip("PostgreSQL is not reachable")
    plain = make_url(postgres_url).set(drivername="postgres")  # the way a platform writes it
    raw = plain.render_as_string(hide_password=False) + f"?sslmode={mode}&application_name=x&connect_timeout=3"
    database = Database(database_url(raw))
    try:
        async with database.transaction() as session:
            name = await session.scalar(text("SELECT current_setting('application_name')"))
    finally:
        await database.close()

    assert name == "x"
