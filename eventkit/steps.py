"""People's steps over HTTP: taken in one transaction and audited; a refusal changes nothing.

Every step a person takes through a service's API (a level decided, a
meeting scheduled) runs here: in one transaction with an Emitter whose
cause names the step, audited as ``<action>`` on the case's record. A step
the rules refuse rolls back and is audited on its own as
``<action>-refused``, since a refusal tells the caller something of the
case; the answer is 403 when the refusal is about who is asking and 409
when it is about the record's state.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import audit
from eventkit.auth import Principal
from eventkit.db import Database
from eventkit.errors import Refused
from eventkit.outbox import Cause, Emitter
from schemas.events.casework import StaffRef

T = TypeVar("T")
Step = Callable[[Emitter], Awaitable[T | Refused]]


class _RolledBack(Exception):
    def __init__(self, refused: Refused) -> None:
        self.refused = refused


class Actor:
    """Who takes steps and why, against the service's database."""

    def __init__(self, principal: Principal, purpose: str, db: Database, *, source: str, record: str) -> None:
        self.principal = principal
        self.purpose = purpose
        self.db = db
        self._source = source
        # What the steps act on, as the audit names it: ``case`` makes ``case-level``, ``case-level-refused``.
        self._record = record

    @property
    def staff(self) -> StaffRef:
        """The caller as casework names people: an opaque reference and a role."""
        return StaffRef(staff_ref=self.principal.user, role=self.principal.role)

    async def take(self, action: str, record_id: str, step: Step[T]) -> T:
        """Run ``step`` in one transaction, audited as ``<record>-<action>`` on ``record_id``; raise on a
        refusal. What it emits names the step as its cause (``decision/<action>``)."""
        audited_as = f"{self._record}-{action}"
        try:
            async with self.db.transaction() as session:
                work = Emitter(
                    session, self._source, Cause(f"{action}/{uuid.uuid4().hex}", f"decision/{action}")
                )
                outcome = await step(work)
                if isinstance(outcome, Refused):
                    raise _RolledBack(outcome)
                await self._audit(session, audited_as, record_id)
                return outcome
        except _RolledBack as rolled_back:
            refused = rolled_back.refused
        async with self.db.transaction() as session:
            await self._audit(session, f"{audited_as}-refused", record_id)
        code = status.HTTP_403_FORBIDDEN if refused.authority else status.HTTP_409_CONFLICT
        raise HTTPException(code, refused.reason)

    async def _audit(self, session: AsyncSession, record_type: str, record_id: str) -> None:
        await audit.record_read(
            session, self.principal, purpose=self.purpose, record_type=record_type, record_id=record_id
        )
