"""The small database the provider keeps its own records in (the send journal; later, delivery receipts).

Named by an Airflow connection (default id ``sms_journal_default``):

* type ``postgres`` (host, port, login, password, schema = database name; extras are passed to the
  driver, e.g. ``sslmode``) -- for deployments whose tasks run on several machines;
* type ``sqlite`` (host = path of the database file) -- one machine only;
* any type with the extra ``sqlalchemy_url`` (a full SQLAlchemy URL; the connection's password, if
  set, replaces the URL's).

Without that connection the default is a SQLite file, ``$AIRFLOW_HOME/sms_journal.db``: right for a
single machine (LocalExecutor, ``airflow standalone``, ``dag.test()``), not seen by other machines.

Each component keeps its own tables and calls :func:`ensure_schema` with them: the set-up is
idempotent and safe when several workers run it at once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select, text, update
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from airflow_provider_sms.exceptions import SmsConfigurationError

__all__ = [
    "DEFAULT_JOURNAL_CONN_ID",
    "Database",
    "JournalUnavailableError",
    "database_for_url",
    "default_sqlite_path",
    "ensure_schema",
    "ensure_schema_once",
    "open_database",
    "url_from_connection",
]

log = logging.getLogger(__name__)

DEFAULT_JOURNAL_CONN_ID = "sms_journal_default"
DEFAULT_FILE_NAME = "sms_journal.db"
# Executors that run every task on the machine of the scheduler: a local SQLite file sees every try.
_SINGLE_MACHINE_EXECUTORS = ("LocalExecutor", "SequentialExecutor", "DebugExecutor")
_SCHEMA_LOCK_KEY = 0x534D534A  # "SMSJ": PostgreSQL advisory lock held while the schema is set up

_versions_metadata = MetaData()
schema_versions = Table(
    "sms_schema_versions",
    _versions_metadata,
    Column("component", String(50), primary_key=True),
    Column("version", Integer, nullable=False),
)


class JournalUnavailableError(SmsConfigurationError):
    """The journal's database cannot be reached or set up (a configuration or infrastructure problem)."""


@dataclass(frozen=True)
class Database:
    """An engine and how far it reaches.

    :param engine: the SQLAlchemy engine (thread-safe; one connection per call).
    :param description: where it is, for logs (never shows a password).
    :param shared: True when every worker reaches the same database (a configured connection, or the
        default file under an executor that runs every task on this machine).
    """

    engine: Engine
    description: str
    shared: bool

    def close(self) -> None:
        self.engine.dispose()


def default_sqlite_path() -> Path:
    """``$AIRFLOW_HOME/sms_journal.db`` (``~/airflow`` when ``AIRFLOW_HOME`` is not set)."""
    home = os.environ.get("AIRFLOW_HOME") or str(Path("~/airflow").expanduser())
    return Path(home) / DEFAULT_FILE_NAME


def url_from_connection(conn_type: str | None, host: str | None, port: int | None, login: str | None,
                        password: str | None, schema: str | None, extra: Mapping[str, Any], conn_id: str) -> URL:
    """The SQLAlchemy URL an Airflow connection describes (see the module docstring for the forms)."""
    raw = extra.get("sqlalchemy_url")
    if raw:
        try:
            url = make_url(str(raw))
        except ArgumentError:
            raise SmsConfigurationError(f"connection {conn_id!r}: extra sqlalchemy_url is not a SQLAlchemy URL") \
                from None
        return url.set(password=password) if password else url
    kind = (conn_type or "").lower()
    if kind in ("postgres", "postgresql"):
        query = {str(k): str(v) for k, v in extra.items() if k != "sqlalchemy_url"}
        return URL.create("postgresql+psycopg", username=login or None, password=password or None,
                          host=host or None, port=port or None, database=schema or None, query=query)
    if kind == "sqlite":
        path = host or schema
        if not path:
            raise SmsConfigurationError(f"connection {conn_id!r}: a sqlite journal needs the file path in host")
        return URL.create("sqlite", database=path)
    raise SmsConfigurationError(
        f"connection {conn_id!r} of type {conn_type!r} cannot hold the SMS journal: use type postgres or "
        "sqlite, or give the extra sqlalchemy_url")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(url: URL) -> Engine:
    """One engine per URL and process (engines pool connections; tasks come and go)."""
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create_engine(url)
            _engines[key] = engine
        return engine


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        path = url.database
        if path and path != ":memory:":
            try:
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise JournalUnavailableError(f"cannot make the folder of the SMS journal {path} "
                                              f"({type(error).__name__})") from None
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL: readers do not block the writer, and several processes on one machine share the file.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)


def database_for_url(url: URL | str, *, shared: bool) -> Database:
    """A :class:`Database` for ``url`` (tests and callers that build their own URL)."""
    parsed = make_url(url) if isinstance(url, str) else url
    return Database(_engine(parsed), parsed.render_as_string(hide_password=True), shared)


def _single_machine_executor() -> bool:
    # Read once per process and value of the variable that usually sets it (a send opens the
    # journal's database twice): an executor changed in airflow.cfg while a process runs is seen
    # by the next process, as Airflow's own components see it.
    return _single_machine(os.environ.get("AIRFLOW__CORE__EXECUTOR"))


@cache
def _single_machine(_executor_variable: str | None) -> bool:
    try:
        from airflow.providers.common.compat.sdk import conf

        executor = str(conf.get("core", "executor", fallback="") or "")
    except Exception:  # configuration not readable: assume the worst (several machines)
        return False
    return bool(executor) and all(part.strip().split(".")[-1] in _SINGLE_MACHINE_EXECUTORS
                                  for part in executor.split(",") if part.strip())


def open_database(conn_id: str) -> Database:
    """The database named by connection ``conn_id``; the default SQLite file when ``conn_id`` is the
    default id and no such connection exists.

    :raises SmsConfigurationError: a connection other than the default is missing or cannot hold it.
    """
    from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if conn_id != DEFAULT_JOURNAL_CONN_ID:
            raise SmsConfigurationError(f"journal connection {conn_id!r} does not exist") from None
        path = default_sqlite_path()
        return database_for_url(URL.create("sqlite", database=str(path)), shared=_single_machine_executor())
    url = url_from_connection(conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema,
                              conn.extra_dejson or {}, conn_id)
    return database_for_url(url, shared=True)


def ensure_schema(database: Database, component: str, metadata: MetaData, version: int) -> None:
    """Create ``metadata``'s tables if missing and record ``component``'s schema version.

    Idempotent; when two workers race to create the tables, the loser finds them made and goes on.
    An older version is brought forward: versions so far only add tables or change what a column's
    JSON may hold (which this code reads in every version), so nothing else is needed. A provider
    whose version is older than the database's is refused, as it could misread what newer ones wrote.

    :raises JournalUnavailableError: the database cannot be reached, or holds a newer schema.
    """
    if _at_version(database, component, version):
        return  # the usual case, in one query (the tables were made with the version row)
    for attempt in (1, 2, 3):
        try:
            with database.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Workers starting together take turns; the lock ends with the transaction.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
                _versions_metadata.create_all(conn, checkfirst=True)
                metadata.create_all(conn, checkfirst=True)
                found = conn.execute(select(schema_versions.c.version)
                                     .where(schema_versions.c.component == component)).scalar()
                if found is None:
                    conn.execute(schema_versions.insert().values(component=component, version=version))
                elif found < version:
                    conn.execute(update(schema_versions).where(schema_versions.c.component == component)
                                 .values(version=version))
                    log.info("%s: %s schema version %d brought forward to %d", database.description, component,
                             found, version)
                elif found > version:
                    raise JournalUnavailableError(
                        f"{database.description}: {component} schema version {found} is newer than this provider's "
                        f"({version}); upgrade the provider on every worker")
            return
        except JournalUnavailableError:
            raise
        except SQLAlchemyError as error:
            # SQLite has no advisory lock: two processes may race to create a table; look again.
            if attempt == 3:
                raise unavailable(database, error) from None
            log.info("schema set-up raced with another worker (%s); checking again", type(error).__name__)


def _at_version(database: Database, component: str, version: int) -> bool:
    """True when ``component``'s version row says ``version``: its tables were created with that row.

    One query instead of a look at every table (a round trip each, on a remote server); anything
    else (no row, no table yet, another version, an error) leaves it to the full set-up to say.
    It reads every component's version: the first read of the process also serves
    :func:`ensure_schema_once` (a send opens the journal, then the opt-out list and the reply store).
    """
    versions = _all_versions(database)
    if versions:
        with _schemas_lock:
            _versions_read.setdefault(id(database.engine), versions)
    return versions.get(component) == version


_schemas_ready: set[tuple[int, str]] = set()
_versions_read: dict[int, dict[str, int]] = {}
_schemas_lock = threading.Lock()


def ensure_schema_once(database: Database, component: str, metadata: MetaData, version: int) -> None:
    """:func:`ensure_schema`, at most once per process, database engine and component.

    Every component's version is read in one query, once per engine: a send opens the journal,
    the suppression list, the reply store and its cursors, one version query each otherwise.
    """
    key = (id(database.engine), component)
    with _schemas_lock:
        if key in _schemas_ready:
            return
        versions = _versions_read.get(key[0])
    if versions is None:
        versions = _all_versions(database)
        with _schemas_lock:
            _versions_read[key[0]] = versions
    if versions.get(component) != version:
        ensure_schema(database, component, metadata, version)
    with _schemas_lock:
        _schemas_ready.add(key)


def _all_versions(database: Database) -> dict[str, int]:
    """Every component's schema version; empty when they cannot be read (the full set-up then says why)."""
    try:
        with database.engine.connect() as conn:
            return {str(c): int(v) for c, v in conn.execute(select(schema_versions.c.component,
                                                                   schema_versions.c.version))}
    except SQLAlchemyError:
        return {}


def unavailable(database: Database, error: BaseException) -> JournalUnavailableError:
    """A :class:`JournalUnavailableError` that names the database but never a password or SQL text."""
    return JournalUnavailableError(f"the SMS journal at {database.description} is unavailable "
                                   f"({type(error).__name__})")
