"""The HTTP face of a service: health, Prometheus metrics and its AsyncAPI document."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification import AsyncAPI, get_asyncapi_html
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, disable_created_metrics, generate_latest
from pydantic import BaseModel, ConfigDict

from eventkit.clock import Clock, local_date
from eventkit.db import Database
from eventkit.policy import AreaPolicies

# A "_created" series beside every counter doubles what Prometheus stores, and nothing here reads it.
disable_created_metrics()  # type: ignore[no-untyped-call]


def database(request: Request) -> Database:
    """The service's database, for read endpoints that open their own transaction."""
    db: Database = request.app.state.db
    return db


Db = Annotated[Database, Depends(database)]


class RequestBody(BaseModel):
    """A request's JSON body: a field the API does not know is refused (422), never ignored.

    A caller who sends ``decided_on`` expecting it to count must be told it does not.
    """

    model_config = ConfigDict(extra="forbid")


def now(request: Request) -> datetime:
    """The service's clock (the one its schedulers and consumers use)."""
    clock: Clock = request.app.state.clock
    return clock()


def today(request: Request) -> date:
    """Today in England and Wales, by the service's clock."""
    return local_date(now(request))


def policies(request: Request) -> AreaPolicies[Any]:
    found: AreaPolicies[Any] = request.app.state.policies
    return found


Now = Annotated[datetime, Depends(now)]
Today = Annotated[date, Depends(today)]
Policies = Annotated[AreaPolicies[Any], Depends(policies)]


def build_http_app(
    *,
    title: str,
    db: Database,
    clock: Clock,
    policies: AreaPolicies[Any] | None = None,
    routers: Sequence[APIRouter] = (),
    registry: CollectorRegistry,
    asyncapi: AsyncAPI,
    checks: dict[str, Callable[[], Awaitable[bool]]],
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    state: Mapping[str, object] | None = None,
    exception_handlers: Mapping[Any, Callable[[Request, Any], Awaitable[Response]]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await start()
        try:
            yield
        finally:
            await stop()

    app = FastAPI(title=title, lifespan=lifespan, exception_handlers=dict(exception_handlers or {}))
    app.state.db = db
    app.state.clock = clock
    app.state.policies = policies
    for name, value in (state or {}).items():
        setattr(app.state, name, value)  # a service's own parts, for its routes' dependencies
    for router in routers:
        app.include_router(router)

    @app.get("/health", tags=["operations"])
    async def health() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                results[name] = "ok" if await check() else "failing"
            except Exception as error:  # a failing dependency is a status, not a crash
                results[name] = f"failing: {type(error).__name__}"
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "failing", "checks": results},
            status_code=200 if healthy else 503,
        )

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["contracts"])
    async def asyncapi_json() -> dict[str, Any]:
        document: dict[str, Any] = asyncapi.to_specification().to_jsonable()
        return document

    @app.get("/asyncapi", response_class=HTMLResponse, tags=["contracts"])
    async def asyncapi_html() -> str:
        # try_it_out_path=None: the docs page must not publish to the broker.
        return get_asyncapi_html(asyncapi.to_specification(), try_it_out_path=None)

    return app
