import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord

from tests.support.kafka import event_of


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read a service's SQLite file directly, as an operator would."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def about(platform_id: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: event_of(record).get("subject") == platform_id
