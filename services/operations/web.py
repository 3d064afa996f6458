"""The dashboard's pages: sign-in, casework for a co-ordinator's area, the pipeline for operators,
and dead letters. Server-rendered; each live part is a fragment the page re-renders from server-sent
events, so numbers change within seconds without a reload.

Signing in takes the same bearer token as the APIs, kept in an HttpOnly,
SameSite=Strict cookie that lasts no longer than the token. Need-to-know is
the APIs': a co-ordinator's casework is their own area's, a list of
platform ids is an audited read of each case, and the pipeline and dead
letters are for operations staff.
"""

import asyncio
import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import jinja2
import jwt
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventkit import access, audit
from eventkit.auth import Principal, Unauthorized, purpose_problem, verify
from eventkit.http import Db
from services.operations import measures
from services.operations.deadletters import AlreadyDecided, DeadLetters, NotFound, NotReplayable, Operator
from services.operations.pipeline import Pipeline
from services.operations.storage import CaseworkStore, DeadLetterStore

COOKIE = "mappa_session"
LIST_PAGE = 100
# Every template escapes what it is given (Starlette would escape only names ending .html): agencies
# write what dead letters hold, and people type purposes.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
)
_STATIC = {path.name: path for path in (Path(__file__).parent / "static").iterdir()}
router = APIRouter(tags=["dashboard"], include_in_schema=False)


# Forms carry a token only this process can make from the session (an HMAC of it): a page of another
# origin on the same site (SameSite lets such requests through) cannot post one.
_FORM_KEY = secrets.token_bytes(32)


def form_token(session: str) -> str:
    return hmac.new(_FORM_KEY, session.encode(), hashlib.sha256).hexdigest()


def from_our_page(
    request: Request, form: Annotated[str, Form(alias="form_token", max_length=128)] = ""
) -> None:
    """A POST from one of our own pages: its form token matches the session, or 403."""
    session = request.cookies.get(COOKIE, "")
    if not session or not hmac.compare_digest(form, form_token(session)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this form is out of date: open the page again")


OurForm = Annotated[None, Depends(from_our_page)]


def _sign_in() -> HTTPException:
    """No valid session: the browser is sent to the sign-in page."""
    return HTTPException(status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": "/login"})


def signed_in(request: Request) -> Principal:
    token = request.cookies.get(COOKIE)
    if not token:
        raise _sign_in()
    try:
        return verify(token)
    except Unauthorized:
        raise _sign_in() from None


SignedIn = Annotated[Principal, Depends(signed_in)]


def caseworker(principal: SignedIn) -> Principal:
    if not access.may_see_area_casework(principal):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "casework is for the area's Responsible Authority staff"
        )
    return principal


def operator(principal: SignedIn) -> Principal:
    if not access.may_operate(principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the pipeline is for operations staff")
    return principal


Caseworker = Annotated[Principal, Depends(caseworker)]
OperatorOnly = Annotated[Principal, Depends(operator)]


def _pipeline(request: Request) -> Pipeline:
    found: Pipeline = request.app.state.pipeline
    return found


def _dead_letters(request: Request) -> DeadLetters:
    found: DeadLetters = request.app.state.dead_letters
    return found


PipelineState = Annotated[Pipeline, Depends(_pipeline)]
DeadLetterTools = Annotated[DeadLetters, Depends(_dead_letters)]


def _page(
    request: Request,
    name: str,
    principal: Principal | None,
    code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    session = request.cookies.get(COOKIE)
    token = form_token(session) if session else None
    operator = principal is not None and access.may_operate(principal)
    context = {"principal": principal, "operator": operator, "form_token": token, **context}
    return templates.TemplateResponse(request, name, context, status_code=code, headers=headers)


def _refresh_seconds(request: Request) -> float:
    seconds: float = request.app.state.refresh_seconds
    return seconds


def _stream(request: Request, event: str, render: Callable[[], Awaitable[str]]) -> EventSourceResponse:
    """Server-sent events: the fragment ``render`` makes, now and every few seconds, while it changes,
    until the session's token expires (the browser's reconnection is then sent to sign in)."""
    until = _expiry(request.cookies[COOKIE])

    async def fragments() -> AsyncIterator[dict[str, str]]:
        last = None
        while datetime.now(UTC) < until:
            fragment = await render()
            if fragment != last:
                yield {"event": event, "data": fragment}
                last = fragment
            await asyncio.sleep(_refresh_seconds(request))  # a refresh cadence, not a wait for an event

    return EventSourceResponse(fragments(), ping=15)


async def error_page(request: Request, error: StarletteHTTPException) -> Response:
    """A refusal or a missing page as a page for people, as JSON for the API; redirects pass through."""
    if request.url.path.startswith("/api/") or error.status_code < 400:
        return await http_exception_handler(request, error)
    return _page(
        request, "error.html.j2", None, error.status_code, detail=error.detail, headers=error.headers
    )


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    if name not in _STATIC:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    return FileResponse(_STATIC[name])


# Signing in and out.
@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html.j2", None)


@router.post("/login", response_model=None)
async def login(request: Request, token: Annotated[str, Form(max_length=8192)]) -> Response:
    try:
        verify(token.strip())
    except Unauthorized as error:
        return _page(request, "login.html.j2", None, status.HTTP_401_UNAUTHORIZED, error=str(error))
    response = RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token.strip(),
        expires=_expiry(token.strip()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _expiry(token: str) -> datetime:
    """When the cookie goes: with the token (verified already; only its expiry is read here)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


@router.post("/logout")
async def logout(_checked: OurForm) -> RedirectResponse:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
async def home(principal: SignedIn) -> RedirectResponse:
    if access.may_operate(principal):
        return RedirectResponse("/pipeline", status.HTTP_303_SEE_OTHER)
    if access.may_see_area_casework(principal):
        return RedirectResponse("/casework", status.HTTP_303_SEE_OTHER)
    raise HTTPException(status.HTTP_403_FORBIDDEN, "nothing on this dashboard is for this role")


# Casework.
async def _counts(request: Request, db: Any, principal: Principal) -> str:
    async with db.transaction() as session:
        counts = await CaseworkStore(session).counts(principal.area)
    # Counts are only as complete as what operations has read: say so while it is behind.
    behind = _pipeline(request).latest.lag_of(request.app.state.own_group)
    return templates.get_template("casework_counts.html.j2").render(
        counts=counts, measures=measures, principal=principal, behind=behind
    )


@router.get("/casework", response_class=HTMLResponse)
async def casework(request: Request, principal: Caseworker, db: Db) -> HTMLResponse:
    return _page(request, "casework.html.j2", principal, counts=await _counts(request, db, principal))


@router.get("/casework/events")
async def casework_events(request: Request, principal: Caseworker, db: Db) -> EventSourceResponse:
    return _stream(request, "counts", lambda: _counts(request, db, principal))


@router.get("/casework/{key}", response_class=HTMLResponse)
async def casework_list(
    request: Request, key: str, principal: Caseworker, db: Db, purpose: str = "", offset: int = 0
) -> HTMLResponse:
    cell = measures.caseload_cell(key)
    measure = measures.BY_KEY.get(key)
    if cell is None and measure is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such measure")
    title = measure.label if measure else f"Category {cell[0]}, level {cell[1]}" if cell else key
    purpose = purpose.strip()
    problem = purpose_problem(purpose) if purpose else None
    if not purpose or problem:
        return _page(request, "purpose.html.j2", principal, title=title, key=key, error=problem)
    async with db.transaction() as session:
        rows = await CaseworkStore(session).listed(
            principal.area, key, limit=LIST_PAGE, offset=max(0, offset)
        )
        # Each case shown is a read of that case, in the list's own transaction.
        await audit.record_reads(
            session, principal, purpose=purpose, record_type="case", record_ids=(r.platform_id for r in rows)
        )
    return _page(
        request, "list.html.j2", principal, title=title, key=key, rows=rows, purpose=purpose,
        offset=offset, page=LIST_PAGE, counts=measure.counts if measure else "cases",
        dated=measure.dated if measure else None,
        links=request.app.state.case_links,
    )  # fmt: skip


# The pipeline.
def _pipeline_fragment(pipeline: Pipeline) -> str:
    return templates.get_template("pipeline_state.html.j2").render(snapshot=pipeline.latest)


@router.get("/pipeline", response_class=HTMLResponse)
async def pipeline_page(request: Request, principal: OperatorOnly, pipeline: PipelineState) -> HTMLResponse:
    return _page(request, "pipeline.html.j2", principal, state=_pipeline_fragment(pipeline))


@router.get("/pipeline/events")
async def pipeline_events(
    request: Request, principal: OperatorOnly, pipeline: PipelineState
) -> EventSourceResponse:
    async def render() -> str:
        return _pipeline_fragment(pipeline)

    return _stream(request, "pipeline", render)


# Dead letters.
@router.get("/dead-letters", response_class=HTMLResponse)
async def dead_letters(request: Request, principal: OperatorOnly, db: Db) -> HTMLResponse:
    async with db.transaction() as session:
        waiting = await DeadLetterStore(session).listed(open_only=True, topic=None, limit=LIST_PAGE, offset=0)
    return _page(request, "deadletters.html.j2", principal, waiting=waiting)


async def _dead_letter_page(
    request: Request, principal: Principal, db: Any, topic: str, partition: int, offset: int, **context: Any
) -> HTMLResponse:
    async with db.transaction() as session:
        found = await DeadLetterStore(session).get(topic, partition, offset)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such dead letter")
    return _page(request, "deadletter.html.j2", principal, letter=found, **context)


@router.get("/dead-letters/{topic}/{partition}/{offset}", response_class=HTMLResponse)
async def dead_letter(
    request: Request, topic: str, partition: int, offset: int, principal: OperatorOnly, db: Db
) -> HTMLResponse:
    return await _dead_letter_page(request, principal, db, topic, partition, offset)


@router.post("/dead-letters/{topic}/{partition}/{offset}/payload", response_class=HTMLResponse)
async def dead_letter_payload(
    request: Request,
    topic: str,
    partition: int,
    offset: int,
    principal: OperatorOnly,
    db: Db,
    tools: DeadLetterTools,
    _checked: OurForm,
    purpose: Annotated[str, Form(max_length=1000)],
) -> HTMLResponse:
    if problem := purpose_problem(purpose.strip()):
        return await _dead_letter_page(request, principal, db, topic, partition, offset, error=problem)
    try:
        _found, payload = await tools.payload(principal, purpose.strip(), topic, partition, offset)
    except NotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such dead letter: {missing}") from None
    return await _dead_letter_page(
        request, principal, db, topic, partition, offset, payload=_readable(payload)
    )


def _readable(payload: bytes) -> str:
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return payload.decode("utf-8", "backslashreplace")


@router.post("/dead-letters/{topic}/{partition}/{offset}/{action}", response_class=HTMLResponse)
async def dead_letter_decision(
    request: Request,
    topic: str,
    partition: int,
    offset: int,
    action: str,
    principal: OperatorOnly,
    db: Db,
    tools: DeadLetterTools,
    _checked: OurForm,
    reason: Annotated[str, Form(max_length=1000)],
) -> HTMLResponse:
    if action not in ("replay", "discard"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "replay or discard")
    reason = reason.strip()
    if problem := purpose_problem(reason, "the reason"):
        return await _dead_letter_page(request, principal, db, topic, partition, offset, error=problem)
    decide = tools.replay if action == "replay" else tools.discard
    try:
        await decide(Operator(principal, reason), topic, partition, offset)
    except NotFound as missing:
        return await _dead_letter_page(request, principal, db, topic, partition, offset, error=str(missing))
    except (AlreadyDecided, NotReplayable) as refused:
        return await _dead_letter_page(request, principal, db, topic, partition, offset, error=str(refused))
    return await _dead_letter_page(request, principal, db, topic, partition, offset, done=f"{action}ed")
