"""What waits in a register's rebuild is applied once: two convictions of one person that the log
says nothing about (their registering record deleted, say) both wait to the end, and the first one
applied there applies the other."""

import time
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from deploy.rebuild import reapplying
from eventkit.service import Service
from eventkit.subscription import BatchConsumer
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE
from services.registry import steering
from services.registry.rebuild import RegisterRebuild
from services.registry.tables import convictions, nominals


async def _nothing_published(
    _topics: Sequence[str], _apply: BatchConsumer, _order: object = None
) -> tuple[int, int]:
    return 0, 0


def _record(value: bytes, offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic=AGENCY_POLICE.name,
        partition=0,
        offset=offset,
        timestamp=int(time.time() * 1000),
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=[],
    )


async def test_events_waiting_to_the_end_for_one_person_are_each_applied_once(
    offline_registry: Service,
) -> None:
    service = offline_registry
    synthetic = Synthetic()
    first = synthetic.conviction()
    second = synthetic.conviction(person=first.person)
    records = [
        _record(synthetic.agency_event(AGENCY_POLICE, conviction).to_json(), offset)
        for offset, conviction in enumerate((first, second))
    ]
    part = RegisterRebuild(service, _nothing_published)
    await part.prepare()
    try:
        for record in records:
            part.order(record)
        result = await part.apply(records, reapplying(service, part.clock))
        assert result.outcomes == ["applied", "applied"]
        summary = await part.finish()
    finally:
        part.close()
    assert steering.current() is None
    assert "2 events waited to the end for their person; 0 events found no nominal" in summary
    assert "1 nominals, 1 of them under a platform id the log did not hold" in summary
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(nominals)) == 1
        assert await session.scalar(select(func.count()).select_from(convictions)) == 2
