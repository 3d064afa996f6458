"""The dead-letter API ``python -m deploy.dlt`` speaks: list, inspect, read the message (with a
stated purpose, audited), replay, discard. Bearer tokens of operations staff, as every API."""

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field

from eventkit.auth import Principal, Purpose
from eventkit.guards import Limit, Offset, OperationsStaff
from eventkit.http import Db, RequestBody
from services.operations.deadletters import AlreadyDecided, DeadLetters, NotFound, NotReplayable, Operator
from services.operations.storage import DeadLetter, DeadLetterStore

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])


def _tools(request: Request) -> DeadLetters:
    found: DeadLetters = request.app.state.dead_letters
    return found


Tools = Annotated[DeadLetters, Depends(_tools)]


class Decision(RequestBody):
    reason: str = Field(min_length=1, max_length=300)


class Payload(RequestBody):
    place: str
    payload: str


def _view(found: DeadLetter) -> dict[str, object]:
    return {"place": found.place, **dataclasses.asdict(found)}


@router.get("")
async def listed(
    principal: OperationsStaff, db: Db, state: str = "open", topic: str | None = None,
    limit: Limit = 50, offset: Offset = 0,
) -> list[dict[str, object]]:  # fmt: skip
    """Newest first; ``state=open`` (the default) or ``all``."""
    if state not in ("open", "all"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "state is open or all")
    async with db.transaction() as session:
        found = await DeadLetterStore(session).listed(
            open_only=state == "open", topic=topic, limit=limit, offset=offset
        )
    return [_view(f) for f in found]


@router.get("/{topic}/{partition}/{offset}")
async def one(
    topic: str, partition: int, offset: int, principal: OperationsStaff, db: Db
) -> dict[str, object]:
    """Where it came from, who gave up on it and why, and any decision: never the message."""
    async with db.transaction() as session:
        found = await DeadLetterStore(session).get(topic, partition, offset)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such dead letter")
    return _view(found)


@router.get("/{topic}/{partition}/{offset}/payload")
async def payload(
    topic: str, partition: int, offset: int, principal: OperationsStaff, purpose: Purpose, tools: Tools
) -> Payload:
    """The message as it was dead-lettered: an audited read, for the purpose stated in X-Purpose."""
    try:
        found, body = await tools.payload(principal, purpose, topic, partition, offset)
    except NotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such dead letter: {missing}") from None
    return Payload(place=found.place, payload=body.decode("utf-8", "backslashreplace"))


async def _decide(
    action: str,
    tools: DeadLetters,
    principal: Principal,
    body: Decision,
    topic: str,
    partition: int,
    offset: int,
) -> dict[str, object]:
    decide = tools.replay if action == "replay" else tools.discard
    try:
        return _view(await decide(Operator(principal, body.reason.strip()), topic, partition, offset))
    except NotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
    except (AlreadyDecided, NotReplayable) as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None


@router.post("/{topic}/{partition}/{offset}/replay")
async def replay(
    topic: str, partition: int, offset: int, body: Decision, principal: OperationsStaff, tools: Tools
) -> dict[str, object]:
    """Publish it again to its original topic, for the consumer that dead-lettered it; once (409 after)."""
    return await _decide("replay", tools, principal, body, topic, partition, offset)


@router.post("/{topic}/{partition}/{offset}/discard")
async def discard(
    topic: str, partition: int, offset: int, body: Decision, principal: OperationsStaff, tools: Tools
) -> dict[str, object]:
    """Never apply it, for the reason given; 409 if it was decided already."""
    return await _decide("discard", tools, principal, body, topic, partition, offset)
