"""Databases on the tests' throwaway PostgreSQL (not a test module)."""

from __future__ import annotations

import os
import time
from typing import Any


def new_database(postgres: Any, prefix: str = "t") -> str:
    """A fresh, empty database on the session's PostgreSQL (the `postgres` fixture's value);
    returns its URL."""
    import psycopg

    name = f"{prefix}{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(f"postgresql://postgres@{postgres.host}:{postgres.port}/postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)
