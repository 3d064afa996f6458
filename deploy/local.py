"""Runs the four services as separate local processes: for the demo, the e2e tests and the benchmark."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eventkit.settings import DEFAULT_HTTP_PORTS

# The chain events travel through, and the operations service that watches it.
CHAIN = ("registry", "levels", "meetings", "notifications")
SERVICES = (*CHAIN, "operations")
KAFKA_SCRIPT = Path(__file__).with_name("kafka.sh")


def free_ports(count: int) -> list[int]:
    """Distinct TCP ports on 127.0.0.1 that nothing listens on right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:  # held open together, so no port is handed out twice
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def broker_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The local broker's address and every principal's credentials (``deploy/kafka.sh env``)."""
    command = ["bash", str(KAFKA_SCRIPT), "env"]
    lines = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603
    return dict(line.split("=", 1) for line in lines.splitlines() if "=" in line)


def use_local_broker() -> None:
    """This process, and the services it starts, use the local broker as their principals, unless
    KAFKA_BOOTSTRAP_SERVERS names another broker (whose principals' settings are then set too)."""
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        os.environ.update(broker_env())


@dataclass
class LocalPlatform:
    """Service processes sharing one environment, each with its own database and port."""

    data_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_HTTP_PORTS))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def start(self, service: str, *, replica: str | None = None, **extra_env: str) -> None:
        """Start ``service``; a ``replica`` name starts another process of it, with a port of its own
        in ``ports`` and a log of its own (the other methods then take that name)."""
        name = replica or service
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "MAPPA_DATA_DIR": str(self.data_dir),
            f"MAPPA_{service.upper()}_HTTP_PORT": str(self.ports[name]),
            # As an init container would, before the service checks its schema.
            f"MAPPA_{service.upper()}_MIGRATE_AT_START": "true",
            **(self._watching() if service == "operations" else {}),
            **self.env,
            **extra_env,
        }
        log = (self.data_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", f"services.{service}"], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def _watching(self) -> dict[str, str]:
        """Where operations finds the chain's services (their health, metrics and read APIs)."""
        urls = {service: self.url(service) for service in CHAIN if service in self.ports}
        links = {
            "register": self.url("registry", "/nominals/{platform_id}"),
            "levels": self.url("levels", "/cases/{platform_id}"),
            "meetings": self.url("meetings", "/cases/{platform_id}/meetings"),
        }
        return {
            "MAPPA_OPERATIONS_SERVICE_URLS": json.dumps(urls),
            "MAPPA_OPERATIONS_CASE_LINKS": json.dumps(links),
        }

    def start_all(self, services: Iterable[str] = SERVICES) -> None:
        for service in services:
            self.start(service)
        for service in services:
            self.wait_healthy(service)

    def wait_healthy(self, service: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}; see {self.log(service)}")
            try:
                with urllib.request.urlopen(self.url(service, "/health"), timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} not healthy after {timeout}s; see {self.log(service)}")
            time.sleep(0.1)

    def log(self, service: str) -> Path:
        return self.data_dir / f"{service}.log"

    def kill(self, service: str) -> None:
        """Stop at once, as a crash would: no shutdown hooks run."""
        process = self.processes.pop(service)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self, service: str, timeout: float = 30.0) -> int:
        """Graceful stop (SIGTERM), as an orchestrator would."""
        process = self.processes.pop(service)
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def stop_all(self) -> None:
        for service in list(self.processes):
            self.stop(service)
