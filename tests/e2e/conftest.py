from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local import SERVICES, LocalPlatform
from tests.support.ports import free_port


@pytest.fixture
def platform(kafka_bootstrap: str, tmp_path: Path) -> Iterator[LocalPlatform]:
    """The services as separate processes on the real broker; each test starts what it needs."""
    local = LocalPlatform(
        data_dir=tmp_path / "var",
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "MAPPA_RETRY_BACKOFF_SECONDS": "0.05"},
        ports={service: free_port() for service in SERVICES},
    )
    try:
        yield local
    finally:
        for service in list(local.processes):
            local.kill(service)
