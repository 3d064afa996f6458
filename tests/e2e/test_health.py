"""Health tells the truth: a service that cannot write its database says so, and catches up after."""

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deploy.local import LocalPlatform
from eventkit.synthetic import Synthetic
from schemas.catalogue import AGENCY_POLICE, REGISTRY_OFFENDERS
from tests.support.kafka import publish, read_all, read_until, registered
from tests.support.waiting import eventually


def _health(platform: LocalPlatform, service: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(platform.url(service, "/health"), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextmanager
def _immutable(files: list[Path]) -> Iterator[None]:
    """The files cannot be written, even by root (as a full or read-only volume would leave them)."""
    made = subprocess.run(["chattr", "+i", *map(str, files)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not permitted here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, files)], check=True)


async def test_a_database_that_refuses_writes_makes_the_service_unhealthy_until_it_recovers(
    kafka_bootstrap: str, platform: LocalPlatform
) -> None:
    platform.start("registry")
    platform.wait_healthy("registry")
    assert _health(platform, "registry")[0] == 200
    # The database and its write-ahead log; the memory-mapped -shm file stays writable, since a
    # write to an immutable mapping kills the process (SIGBUS): a crash, which is another story.
    files = [platform.data_dir / "registry.db", platform.data_dir / "registry.db-wal"]
    event = Synthetic().conviction_event()
    with _immutable(files):

        async def failing() -> dict[str, Any] | None:
            status, body = _health(platform, "registry")
            return body if status == 503 else None

        checks = (await eventually(failing, what="/health to report the database"))["checks"]
        assert checks["database"].startswith("failing")
        # An event that arrives now cannot be applied: it waits, and is never dead-lettered.
        await publish(
            kafka_bootstrap, AGENCY_POLICE.name, event.to_json(), key=event.data["person"]["pnc_id"]
        )

        async def consumer_failing() -> bool:
            return bool(_health(platform, "registry")[1]["checks"]["consumer"] != "ok")

        await eventually(consumer_failing, what="/health to report the consumer", timeout=60)

    async def healthy() -> bool:
        return _health(platform, "registry")[0] == 200

    await read_until(kafka_bootstrap, REGISTRY_OFFENDERS.name, bool, match=registered(event.id), timeout=90)
    await eventually(healthy, what="/health to recover")
    assert (
        await read_all(
            kafka_bootstrap, f"{AGENCY_POLICE.name}.dlt", match=lambda r: event.id in r.value.decode()
        )
        == []
    )
    assert len(await read_all(kafka_bootstrap, REGISTRY_OFFENDERS.name, match=registered(event.id))) == 1
