"""Calling a service's HTTP API in tests: tokens signed with the test key, and an in-process client."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from eventkit.auth import Principal
from eventkit.service import Service
from eventkit.tokens import issue

KEY = secrets.token_urlsafe(48)


def bearer(principal: Principal, purpose: str = "Case review") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(principal, key=KEY)}", "X-Purpose": purpose}


@asynccontextmanager
async def asgi_client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The service's HTTP app in this process; its lifespan (broker, relay) does not run."""
    transport = httpx.ASGITransport(app=service.http_app())
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service.name}") as http:
        yield http
