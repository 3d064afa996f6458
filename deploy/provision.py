"""Provisions a broker for the platform, as its operator (``admin``, a super user).

    python -m deploy.provision credentials [--missing-from FILE]
                                             a fresh password for every principal (or those FILE
                                             does not name), as MAPPA_<CLIENT>_KAFKA_USERNAME/PASSWORD
                                             lines
    python -m deploy.provision apply         the platform's topics, every principal's SCRAM-SHA-512
                                             credentials (from those settings) and their ACLs

``apply`` may run again: it creates what is missing, sets the passwords it is given and removes the
ACLs of the platform's principals that ``deploy.acls`` no longer grants. ``deploy/kafka.sh start``
runs it on every start; on Kubernetes, Strimzi does the same from ``deploy/k8s``.
"""

import argparse
import asyncio
import logging
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from deploy.acls import ADMIN, Principal, principals
from eventkit.broker import ensure_topics
from eventkit.settings import PlatformSettings, kafka_access
from schemas.catalogue import all_topic_names

SCRAM_ITERATIONS = 8192
TIMEOUT_SECONDS = 30.0


def credentials(have: str = "") -> list[str]:
    """Environment lines naming every principal, the admin's included, each with a new password;
    only those ``have`` (such lines) does not name yet."""
    names = {ADMIN: ADMIN} | {p.client: p.username for p in principals()}
    clients = [c for c in names if f"MAPPA_{c.upper()}_KAFKA_USERNAME=" not in have]
    return [
        line
        for client in clients
        for line in (
            f"MAPPA_{client.upper()}_KAFKA_USERNAME={names[client]}",
            f"MAPPA_{client.upper()}_KAFKA_PASSWORD={secrets.token_urlsafe(24)}",
        )
    ]


def bindings(principal: Principal) -> set[AclBinding]:
    kinds = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
    return {
        AclBinding(
            kinds[grant.resource],
            grant.name,
            ResourcePatternType.LITERAL,
            f"User:{principal.username}",
            "*",
            AclOperation[grant.operation.upper()],
            AclPermissionType.ALLOW,
        )
        for grant in principal.grants
    }


def _wait_one(future: Future[Any] | dict[str, Future[Any]]) -> Any:
    assert isinstance(future, Future)
    return future.result(timeout=TIMEOUT_SECONDS)


def _wait(futures: dict[Any, Future[Any]] | Sequence[Future[Any]]) -> None:
    for future in futures.values() if isinstance(futures, dict) else futures:
        future.result(timeout=TIMEOUT_SECONDS)


def acls_held(admin: AdminClient) -> set[AclBinding]:
    """Every ACL the broker holds."""
    # None matches any name, principal and host (its annotations say str).
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    return set(admin.describe_acls(everything).result(TIMEOUT_SECONDS))


def apply_access(admin: AdminClient, wanted: list[Principal]) -> tuple[int, int, int]:
    """Sets the principals' passwords and makes their ACLs exactly ``wanted``'s grants:
    (users set, ACLs added, ACLs removed). A principal without credentials is left out."""
    upserts: list[UserScramCredentialAlteration] = []
    for principal in wanted:
        access = kafka_access(principal.client)
        if access.username is None or access.password is None:
            logging.warning("no credentials for %s: its user is not set", principal.client)
            continue
        upserts.append(
            UserScramCredentialUpsertion(
                access.username,
                ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                access.password.encode(),
            )
        )
    if upserts:
        _wait(admin.alter_user_scram_credentials(upserts))
        users = {u.user for u in upserts}
        _until(lambda: users <= set(_wait_one(admin.describe_user_scram_credentials())), "the users")
    ours = {f"User:{p.username}" for p in wanted}
    existing = {b for b in acls_held(admin) if b.principal in ours}
    granted = set().union(*map(bindings, wanted))
    added, removed = granted - existing, existing - granted
    if added:
        _wait(admin.create_acls(list(added)))
    if removed:
        _wait(admin.delete_acls([_matching(b) for b in removed]))
    if added or removed:
        _until(lambda: {b for b in acls_held(admin) if b.principal in ours} == granted, "the ACLs")
    return len(upserts), len(added), len(removed)


def _matching(binding: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _until(done: Callable[[], bool], what: str) -> None:
    """Until the broker serves what its controller committed: it applies the metadata a moment later,
    and a client connecting meanwhile would be refused."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the broker did not apply {what} within {TIMEOUT_SECONDS:.0f}s")
        time.sleep(0.1)  # polling the broker's state


async def apply() -> str:
    platform = PlatformSettings()
    kafka = kafka_access(ADMIN, platform)
    created = await ensure_topics(
        kafka,
        all_topic_names(),
        partitions=platform.topic_partitions,
        replication_factor=platform.topic_replication_factor,
    )
    admin = AdminClient(kafka.librdkafka() | {"logger": logging.getLogger("librdkafka")})
    users, added, removed = await asyncio.to_thread(apply_access, admin, principals())
    return (
        f"provisioned {kafka.bootstrap_servers}: {len(created)} topics created, {users} users' passwords "
        f"set, {added} ACLs added and {removed} removed"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.provision", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("credentials", "apply"))
    parser.add_argument(
        "--missing-from", type=Path, help="with credentials: only principals it does not name"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.what == "credentials":
        lines = credentials(args.missing_from.read_text() if args.missing_from else "")
        if lines:
            print("\n".join(lines))
    else:
        print(asyncio.run(apply()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
