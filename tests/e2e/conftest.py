from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.local import SERVICES, LocalPlatform, free_ports


@pytest.fixture
def platform(kafka_bootstrap: str, tmp_path: Path) -> Iterator[LocalPlatform]:
    """The services as separate processes on the real broker; each test starts what it needs."""
    local = LocalPlatform(
        data_dir=tmp_path / "var",
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "MAPPA_RETRY_BACKOFF_SECONDS": "0.05"},
        ports=dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True)),
    )
    try:
        yield local
    finally:
        # A graceful stop leaves the consumer groups at once; a killed member
        # would hold up the next test's group for a session timeout.
        local.stop_all()


# Debian's Chromium (bootstrap installs it), never a browser Playwright downloads; these flags keep it
# from reaching for the network this machine does not have.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's browser, launched from Debian's Chromium."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS, "headless": True}
