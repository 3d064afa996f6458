"""What every read API shares: the caseworker check, and a subject's history as it is shown."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status
from pydantic import BaseModel

from eventkit import access, history
from eventkit.auth import Authenticated, Principal

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


def caseworker(principal: Authenticated) -> Principal:
    """The caller, if their role reads people's records at all; 403 before anything is looked up."""
    if not access.may_read_personal_records(principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this role does not read personal records")
    return principal


Caseworker = Annotated[Principal, Depends(caseworker)]


def responsible_authority(principal: Caseworker) -> Principal:
    """A caseworker of the Responsible Authority: area-wide lists are theirs."""
    if not principal.responsible_authority:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this list is for the Responsible Authority")
    return principal


ResponsibleAuthority = Annotated[Principal, Depends(responsible_authority)]


class HistoryLine(BaseModel):
    at: datetime
    change: str
    cause_id: str
    cause_type: str


def history_view(lines: list[history.Line]) -> list[HistoryLine]:
    return [
        HistoryLine(at=line.at, change=line.change, cause_id=line.cause_id, cause_type=line.cause_type)
        for line in lines
    ]
