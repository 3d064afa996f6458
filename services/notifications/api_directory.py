"""The recipients directory over HTTP: who in an area is told, by which channels.

Kept by the area's operations staff and MAPPA co-ordinators; offender
managers allocated by agency events appear on their own (inbox only until
someone adds an address). Every read and change is audited. A webhook's
signing secret (Standard Webhooks ``whsec_``) is shown once, when it is
made; rotating it keeps the old one signing for the policy's overlap.
"""

import base64
import secrets
import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints, model_validator

from eventkit import audit, steps
from eventkit.auth import Authenticated, Principal, Purpose, Role
from eventkit.http import Db, Now, Policies, RequestBody
from eventkit.outbox import Emitter
from schemas.agencies import Agency
from schemas.identifiers import AREA_PATTERN
from services.notifications.storage import NotificationStore, Recipient

router = APIRouter(tags=["recipients directory"])
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such recipient")
SOURCE = "/mappa/notifications"
RECORD = "directory"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def keeper(principal: Authenticated) -> Principal:
    """Operations staff, or a Responsible Authority MAPPA co-ordinator: for their own area."""
    coordinator = principal.role is Role.MAPPA_COORDINATOR and principal.responsible_authority
    if not (coordinator or principal.role is Role.OPERATIONS):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the directory is kept by operations and co-ordinators"
        )
    return principal


Keeper = Annotated[Principal, Depends(keeper)]


class Entry(RequestBody):
    area: str = Field(pattern=AREA_PATTERN)
    role: Role
    agency: Agency | None = None
    staff_ref: str | None = Field(
        default=None, min_length=1, max_length=64, description="A person; else shared"
    )
    channels: list[Literal["email", "webhook"]] = Field(default_factory=list, max_length=2)
    email: str | None = Field(default=None, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", max_length=254)
    webhook_url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)] | None = Field(
        default=None, description="https; plain http only to this machine (a local receiver)"
    )
    active: bool = True

    @model_validator(mode="after")
    def _addressed(self) -> "Entry":
        url = self.webhook_url
        if url is not None and url.scheme != "https" and url.host not in _LOOPBACK:
            raise ValueError("a webhook_url must be https (plain http only to 127.0.0.1 or localhost)")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel is listed twice")
        if "email" in self.channels and not self.email:
            raise ValueError("the email channel needs an email address")
        if "webhook" in self.channels and not self.webhook_url:
            raise ValueError("the webhook channel needs a webhook_url")
        return self


class EntryView(BaseModel):
    recipient_id: str
    area: str
    role: str
    agency: str | None
    staff_ref: str | None
    channels: list[str]
    email: str | None
    webhook_url: str | None
    webhook_disabled: bool
    active: bool
    source: str
    webhook_secret: str | None = Field(
        default=None, description="Shown once, when made: the receiver verifies signatures with it"
    )


def _view(recipient: Recipient, secret: str | None = None) -> EntryView:
    return EntryView(**{**vars(recipient), "channels": list(recipient.channels)}, webhook_secret=secret)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@router.get("/areas/{area}/recipients", response_model=list[EntryView])
async def directory(
    area: str, principal: Keeper, purpose: Purpose, db: Db, role: Role | None = None
) -> list[EntryView]:
    if principal.area != area:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "another area's directory")
    async with db.transaction() as session:
        found = await NotificationStore(session).directory(area, role)
        await audit.record_read(session, principal, purpose=purpose, record_type=RECORD, record_id=area)
    return [_view(r) for r in found]


@router.put("/recipients/{recipient_id}", response_model=EntryView)
async def put(
    recipient_id: uuid.UUID, entry: Entry, principal: Keeper, purpose: Purpose, db: Db, now: Now
) -> EntryView:
    """Add or replace an entry; a webhook entry gets its first signing secret, shown once."""
    if entry.area != principal.area:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "another area's directory")

    async def step(work: Emitter) -> EntryView:
        store = NotificationStore(work.session)
        before = await store.recipient(str(recipient_id))
        if before is not None and before.area != principal.area:
            raise NOT_FOUND
        holder = await store.by_staff_ref(entry.staff_ref) if entry.staff_ref else None
        if holder is not None and holder.recipient_id != str(recipient_id):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"that staff_ref is entry {holder.recipient_id}: put that"
            )
        url = str(entry.webhook_url) if entry.webhook_url else None
        recipient = Recipient(
            recipient_id=str(recipient_id),
            area=entry.area,
            role=entry.role,
            agency=entry.agency,
            staff_ref=entry.staff_ref,
            channels=tuple(entry.channels),
            email=entry.email,
            webhook_url=url,
            # Setting the URL again is how an operator re-enables an endpoint that answered 410.
            webhook_disabled=False,
            active=entry.active,
            source="operator",
        )
        await store.put_recipient(recipient, now)
        secret = None
        if url and not (await store.secrets_of({recipient.recipient_id}, now)):
            secret = _new_secret()
            await store.add_secret(recipient.recipient_id, secret, now, timedelta(0))
        return _view(recipient, secret)

    actor = steps.Actor(principal, purpose, db, source=SOURCE, record=RECORD)
    return await actor.take("put", str(recipient_id), step)


@router.post("/recipients/{recipient_id}/webhook-secret", response_model=EntryView)
async def rotate(
    recipient_id: uuid.UUID, principal: Keeper, purpose: Purpose, db: Db, now: Now, policies: Policies
) -> EntryView:
    """A new signing secret, shown once; the old ones keep signing for the area's overlap hours."""

    async def step(work: Emitter) -> EntryView:
        store = NotificationStore(work.session)
        recipient = await store.recipient(str(recipient_id))
        if recipient is None or recipient.area != principal.area or not recipient.webhook_url:
            raise NOT_FOUND
        overlap = timedelta(hours=policies.for_area(recipient.area).webhook_secret_overlap_hours)
        secret = _new_secret()
        await store.add_secret(recipient.recipient_id, secret, now, overlap)
        return _view(recipient, secret)

    actor = steps.Actor(principal, purpose, db, source=SOURCE, record=RECORD)
    return await actor.take("rotate-secret", str(recipient_id), step)
