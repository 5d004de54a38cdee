"""A throw-away PostgreSQL server for the tests, from the binaries of the ``pgserver`` wheel (PyPI).

Started once per test session on a free loopback port with a fresh data folder, stopped at the
end. PostgreSQL refuses to run as root, so under root (CI containers) it runs as ``nobody``;
nothing is installed on or added to the machine.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PostgresServer"]


def _bin_dir() -> Path:
    # Found without importing pgserver: its import creates lock files in the user's runtime folder.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver wheel is not installed (it is pinned in the test extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """``start()`` a server; ``url(database)`` for SQLAlchemy; ``create_database(name)``; ``stop()``."""

    def __init__(self, max_connections: int = 50) -> None:
        self.max_connections = max_connections
        self.bin = _bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="sms-journal-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            self._as = {"user": 65534, "group": 65534}  # nobody: postgres will not run as root
            os.chown(self.folder, 65534, 65534)

    def _run(self, *args: str) -> None:
        subprocess.run([str(self.bin / args[0]), *args[1:]], check=True, capture_output=True, timeout=120,
                       cwd=self.folder, **self._as)

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F -c max_connections={self.max_connections}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o", options, "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def journal_connection(self) -> str:
        """An ``AIRFLOW_CONN_*`` value (type ``postgres``) naming a new empty database for the journal."""
        import json
        import uuid

        name = f"journal_{uuid.uuid4().hex[:12]}"
        self.create_database(name)
        return json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "port": self.port, "login": "postgres",
                           "schema": name})

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)
