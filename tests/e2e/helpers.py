import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord

from schemas.catalogue import type_of
from schemas.events.registry import NominalRegistered
from tests.support.kafka import event_of


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read a service's SQLite file directly, as an operator would."""
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def registered(pnc: str) -> Callable[[ConsumerRecord], bool]:
    def match(record: ConsumerRecord) -> bool:
        event = event_of(record)
        return (
            event["type"] == type_of(NominalRegistered)
            and {
                "scheme": "pnc",
                "value": pnc,
            }
            in event["data"]["identifiers"]
        )

    return match


def about(platform_id: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: event_of(record).get("subject") == platform_id
