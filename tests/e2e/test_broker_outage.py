"""A broker outage: the service backs off and its log says so in a few lines, not thousands a second.

This test runs a broker of its own, since it stops it; being new, that broker also shows that a
service's first start on a new cluster logs no errors.
"""

import asyncio
import re
import shutil
from pathlib import Path

from aiokafka import AIOKafkaProducer

from deploy.local import LocalPlatform, free_ports
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS
from tests.support.kafka import access, read_until, registered, start_broker, stop_broker

OUTAGE_SECONDS = 8.0
REPEAT_SECONDS = 3  # MAPPA_LOG_REPEAT_SECONDS: short, so the outage shows the summary lines too
CONVICTIONS = 200  # enough that the registry is still publishing what they cause when the broker goes
UNABLE = re.compile(r"Unable connect|Unable to update metadata|Unable to request metadata")
REPEATED = re.compile(r"\(repeated (once|\d+ times) in the last \d+ s\)")


async def _publish_convictions(bootstrap: str) -> str:
    """Publishes a burst of police convictions; returns the id of the first."""
    synthetic = Synthetic()
    producer = AIOKafkaProducer(**access(bootstrap, "police").options(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        ids = []
        for _ in range(CONVICTIONS):
            conviction = synthetic.conviction()
            event = synthetic.conviction_event(conviction)
            await producer.send(AGENCY_POLICE.name, event.to_json(), key=conviction.person.pnc_id.encode())
            ids.append(event.id)
        await producer.flush()
    finally:
        await producer.stop()
    return ids[0]


async def test_a_broker_outage_leaves_a_few_summarised_lines(tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    bootstrap = f"127.0.0.1:{port}"
    broker = start_broker(tmp_path / "kafka", port, controller_port)
    platform = LocalPlatform(
        data_dir=tmp_path / "var",
        env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "MAPPA_LOG_REPEAT_SECONDS": str(REPEAT_SECONDS)},
        ports={"registry": free_ports(1)[0]},
    )
    try:
        platform.start("registry")
        platform.wait_healthy("registry")
        first = await _publish_convictions(bootstrap)
        await read_until(bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(first))
        started = platform.log("registry").read_text(errors="replace").splitlines()
        logged_before = len(started)

        stop_broker(broker)
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself
        during = platform.log("registry").read_text(errors="replace").splitlines()[logged_before:]
        start_broker(tmp_path / "kafka", port, controller_port)
        platform.wait_healthy("registry", timeout=120)
    finally:
        platform.stop_all()
        stop_broker(broker)
        shutil.rmtree(tmp_path / "kafka", ignore_errors=True)

    # A normal start, on a new cluster whose first consumer group this is, shows no errors: the
    # service waits for its group's coordinator instead of letting its consumer fail and retry.
    assert not [line for line in started if " ERROR " in line or "CoordinatorNotAvailable" in line]

    unable = [line for line in during if UNABLE.search(line)]
    assert unable, "the outage was not noticed"
    # One line per distinct message, then at most one summary line per message and interval.
    assert len(unable) <= 40, f"{len(unable)} 'Unable ...' lines in an outage of {OUTAGE_SECONDS}s"
    assert any(REPEATED.search(line) for line in unable), "repeats were dropped without being counted"
    # The counts say how often the clients tried: backing off, a few times a second, not thousands.
    attempts = len(unable) + sum(
        1 if m.group(1) == "once" else int(m.group(1).split()[0])
        for m in (REPEATED.search(line) for line in unable)
        if m
    )
    assert attempts <= 400, f"{attempts} failed attempts in an outage of {OUTAGE_SECONDS}s"
