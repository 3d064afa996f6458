"""The read audit: who read which person's record, when, and why (Data Protection Act 2018 s.62).

Rows live in the service's own database, next to the records they describe,
so the audit row and the read share one transaction: no read without its
audit row, and no audit row for a read that failed.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import trace
from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, Integer, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.auth import MAX_PURPOSE_LENGTH, MAX_USER_LENGTH, Principal
from eventkit.db import kit_metadata, utc

audit_reads = Table(
    "audit_reads",
    kit_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user", String(MAX_USER_LENGTH), nullable=False),
    Column("agency", String(32), nullable=False),
    Column("role", String(32), nullable=False),
    Column("area", String(32), nullable=False),
    Column("purpose", String(MAX_PURPOSE_LENGTH), nullable=False),
    Column("record_type", String(64), nullable=False),
    Column("record_id", String(128), nullable=False),
    # The trace id of the request, linking the row to its trace.
    Column("request_id", String(64)),
    # The database itself refuses an audit row that says nothing, whoever writes it.
    CheckConstraint(f"length(purpose) BETWEEN 1 AND {MAX_PURPOSE_LENGTH}", name="ck_audit_reads_purpose"),
    CheckConstraint('length("user") > 0', name="ck_audit_reads_user"),
    CheckConstraint("length(record_type) > 0 AND length(record_id) > 0", name="ck_audit_reads_record"),
    Index("ix_audit_reads_record", "record_type", "record_id", "at"),
)


@dataclass(frozen=True)
class AuditRead:
    id: int
    at: datetime
    user: str
    agency: str
    role: str
    area: str
    purpose: str
    record_type: str
    record_id: str
    request_id: str | None


def _current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


async def record_read(
    session: AsyncSession,
    principal: Principal,
    *,
    purpose: str,
    record_type: str,
    record_id: str,
    request_id: str | None = None,
) -> None:
    """Record that ``principal`` read ``record_type``/``record_id`` for ``purpose``.

    Contract: call it inside the same transaction as the read it describes
    (``async with db.transaction() as session``), before the record leaves
    the handler. The insert runs at once, so if it fails this raises, the
    transaction rolls back with everything it did, and the caller must let
    the error propagate and answer with an error instead of the record: a
    read that cannot be audited does not happen. ``request_id`` defaults to
    the current trace id.
    """
    await session.execute(
        audit_reads.insert(),
        dict(
            at=datetime.now(UTC),
            user=principal.user,
            agency=str(principal.agency),
            role=str(principal.role),
            area=principal.area,
            purpose=purpose,
            record_type=record_type,
            record_id=record_id,
            request_id=request_id if request_id is not None else _current_trace_id(),
        ),
    )


async def record_reads(
    session: AsyncSession, principal: Principal, *, purpose: str, record_type: str, record_ids: Iterable[str]
) -> None:
    """``record_read`` for each distinct record a list showed (a case's platform id once, however often)."""
    for record_id in sorted(set(record_ids)):
        await record_read(session, principal, purpose=purpose, record_type=record_type, record_id=record_id)


async def reads_of(
    session: AsyncSession,
    record_types: Collection[str],
    record_id: str,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRead]:
    """Who read this record (in any of its ``record_types``), newest first, a page at a time.

    Check ``access.may_read_audit`` first.
    """
    if limit < 1 or offset < 0:
        raise ValueError("limit must be positive and offset not negative")
    rows = await session.execute(
        select(audit_reads)
        .where(audit_reads.c.record_type.in_(record_types), audit_reads.c.record_id == record_id)
        .order_by(audit_reads.c.at.desc(), audit_reads.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        AuditRead(
            id=row.id,
            at=utc(row.at),
            user=row.user,
            agency=row.agency,
            role=row.role,
            area=row.area,
            purpose=row.purpose,
            record_type=row.record_type,
            record_id=row.record_id,
            request_id=row.request_id,
        )
        for row in rows
    ]
