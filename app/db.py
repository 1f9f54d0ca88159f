"""The database: engine, sessions and migrations (run on start-up)."""

from __future__ import annotations

import contextlib
import enum
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ColumnElement, DateTime, Enum, Table, event, inspect, text, update
from sqlalchemy.engine import Connection, CursorResult, Dialect, ExceptionContext, Result, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlalchemy.types import TypeDecorator

from app.clock import utc
from app.dburl import connect_arguments, describe
from app.turns import Turns

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Replicas started together all migrate: the first takes this lock, the others wait and find nothing to do.
MIGRATION_LOCK = int.from_bytes(b"incident", "big")


class DatabaseUnreachable(Exception):
    """No connection to the database; the message names the host, the database and the reason."""


@dataclass(frozen=True)
class Migrated:
    before: tuple[str, ...]  # the revisions the database was at (empty: a new database)
    after: tuple[str, ...]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


def str_enum(kind: type[enum.StrEnum]) -> Enum:
    """A Python enum stored as its values in a plain string column (no native database enum to migrate)."""
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


async def compare_and_set(session: AsyncSession, row: Base, *still: ColumnElement[bool], **values: Any) -> bool:
    """Write `values` onto the row only if it is `still` as the caller saw it: one conditional UPDATE, and
    its row count says whether this transaction made the change. The database decides who was first, on
    SQLite as on PostgreSQL (which re-checks the condition once a concurrent writer commits), with no row
    lock. On success the loaded object shows the new values; on failure the caller refreshes it to learn
    who was first."""
    mapper = inspect(type(row))
    [key] = mapper.primary_key
    if key.key is None:
        raise TypeError(f"{type(row).__name__}'s primary key column has no name to read it by")
    statement = (update(type(row)).where(key == getattr(row, key.key), *still).values(**values)
                 .execution_options(synchronize_session=False))
    if rows_matched(await session.execute(statement)) != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True


def table_of(model: type[Base]) -> Table:
    """The table a model is mapped to, for Core statements (the ORM declares `__table__` as any FROM clause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is mapped to {type(table).__name__}, not to a table")
    return table


def rows_matched(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an INSERT, UPDATE or DELETE matched. Session.execute returns a CursorResult for one, which
    has the count, but is declared to return the Result of any statement."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count: {type(result).__name__} is not the result of an INSERT, UPDATE or DELETE")
    return result.rowcount


class Database:
    """One engine per process; callers open one transaction per request or job."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self.engine: AsyncEngine = create_async_engine(parsed, connect_args={"timeout": 30})
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _begin_immediate)
            event.listen(self.engine.sync_engine, "handle_error", _sqlite_file_unusable)
            # A pooled SQLite connection answers from its page cache: checks open the file afresh.
            self._fresh: AsyncEngine | None = create_async_engine(parsed, poolclass=NullPool,
                                                                  connect_args={"timeout": 5})
            self._turns: Turns | None = Turns()  # one writer at a time, a waiting sender's first (app/turns.py)
        else:
            plain, arguments = connect_arguments(parsed)
            self.engine = create_async_engine(plain, pool_size=10, max_overflow=10, pool_pre_ping=True,
                                              connect_args=arguments)
            self._fresh = None  # the pool pings each connection it hands out
            self._turns = None  # row locks: writers of different rows do not wait for each other
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with (self._turns.turn() if self._turns is not None else contextlib.nullcontext(),
                    self.sessions() as session, session.begin()):
            yield session

    async def migrate(self) -> Migrated:
        """Bring the schema to head. Any number of processes may do this at once: on PostgreSQL they take
        turns under an advisory lock held by the migration's transaction (released by commit, rollback or a
        dropped connection, so a crashed migrator never leaves it held); SQLite's file lock does the same."""
        try:
            connection = await self.engine.connect()
        except (OSError, TimeoutError, SQLAlchemyError) as error:
            raise DatabaseUnreachable(f"Cannot reach the {describe(self.engine.url)}: {_reason(error)}") from None
        try:
            if self.dialect == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            migrated = await connection.run_sync(_upgrade_to_head)
            await connection.commit()
        finally:
            await connection.close()
        where, head = describe(self.engine.url), ", ".join(migrated.after)
        if migrated.before == migrated.after:
            log.info("The %s is at revision %s: nothing to migrate", where, head)
        else:
            log.info("Migrated the %s to revision %s (from %s)", where, head, ", ".join(migrated.before) or "empty")
        return migrated

    @asynccontextmanager
    async def checking(self) -> AsyncIterator[AsyncSession]:
        """A read-only session for health checks, on a connection that reads the database itself."""
        async with AsyncSession(self._fresh or self.engine) as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
        if self._fresh is not None:
            await self._fresh.dispose()


_DATABASE_PACKAGES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3")


def unreachable(error: BaseException) -> bool:
    """The database cannot be reached or opened (as opposed to a query that is wrong).

    OperationalError and InterfaceError are the DB-API's words for a connection or file that is gone;
    another DBAPIError counts when it came from connecting (no statement yet) or invalidated the
    connection. asyncpg raises OSError and TimeoutError while connecting without SQLAlchemy wrapping
    them, so those count when the traceback shows they came from the database's code, not from Slack's
    (aiohttp's connection errors are OSErrors too)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or error.statement is None
    if isinstance(error, OSError | TimeoutError):
        return _raised_in(error, _DATABASE_PACKAGES)
    return False


def _raised_in(error: BaseException, packages: tuple[str, ...]) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] in packages:
            return True
        traceback = traceback.tb_next
    return False


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # The driver must not open transactions itself: _begin_immediate does (SQLAlchemy's recipe for
    # pysqlite and aiosqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# What SQLite says when the file under a connection is no longer a database it can use. The connection
# keeps saying it after the file is repaired (it keeps its view of the broken file): it must be thrown away.
_UNUSABLE_FILE = ("file is not a database", "database disk image is malformed", "disk i/o error",
                  "unable to open database file", "database or disk is full", "file is encrypted")


def _sqlite_file_unusable(context: ExceptionContext) -> None:
    """Treat an unusable file as a lost connection: SQLAlchemy then discards this connection and every other
    pooled one (the pool is invalidated), so the first request after the file is repaired opens it afresh,
    and `unreachable` answers the person that their request was not recorded."""
    message = str(context.original_exception).lower()
    if any(words in message for words in _UNUSABLE_FILE):
        context.is_disconnect = True


def _begin_immediate(connection: Connection) -> None:
    """Every SQLite transaction takes the write lock when it starts. A deferred one that read and then
    writes after another writer committed fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT,
    which busy_timeout does not retry): two people pressing the same button would get an error instead of
    one of them being told the other was first. Waiting at BEGIN, under busy_timeout, never fails that way."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _upgrade_to_head(connection: Connection) -> Migrated:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    before = MigrationContext.configure(connection).get_current_heads()
    command.upgrade(config, "heads")
    return Migrated(before=tuple(before), after=tuple(MigrationContext.configure(connection).get_current_heads()))


def where(db: Database) -> str:
    """The database as an operator names it: "PostgreSQL database 'x' at host:port", "SQLite database ..."."""
    return describe(db.engine.url)


def reason(error: BaseException) -> str:
    """Why a database call failed, on one line (no traceback)."""
    return _reason(error)


def _reason(error: BaseException) -> str:
    """The driver's own words, on one line: "connection refused", "database "x" does not exist"..."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    if isinstance(error, TimeoutError):
        return "no answer (timed out)"
    if isinstance(error, OSError) and error.errno and error.errno > 0:
        return os.strerror(error.errno).lower()  # asyncio words it "Connect call failed (host, port)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()) or type(error).__name__
