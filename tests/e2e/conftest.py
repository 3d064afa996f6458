import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local import SERVICES, LocalPlatform


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def platform(kafka_bootstrap: str, tmp_path: Path) -> Iterator[LocalPlatform]:
    """The services as separate processes on the real broker; each test starts what it needs."""
    local = LocalPlatform(
        data_dir=tmp_path / "var",
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "MAPPA_RETRY_BACKOFF_SECONDS": "0.05"},
        ports={service: _free_port() for service in SERVICES},
    )
    try:
        yield local
    finally:
        for service in list(local.processes):
            local.kill(service)
