"""Bearer tokens: what is accepted, what is refused, and how the HTTP dependencies answer.

The dependencies are exercised through a real uvicorn server on a free
127.0.0.1 port, with httpx as the client.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, HTTPException
from pydantic import ValidationError

from eventkit import tokens
from eventkit.auth import (
    Authenticated,
    AuthSettings,
    Principal,
    Purpose,
    Role,
    Unauthorized,
    auth_settings,
    load_auth_settings,
    stated_purpose,
    verify,
)
from schemas.agencies import Agency

KEY = "test-only-hmac-key-not-a-secret-0123456789"
OTHER_KEY = "another-test-only-hmac-key-9876543210abcdef"


@pytest.fixture(autouse=True)
def _no_auth_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from an environment without MAPPA_AUTH_* and a fresh settings cache."""
    for name in ("JWT_KEY", "JWT_ALGORITHMS", "JWT_AUDIENCE", "JWT_ISSUER", "LEEWAY_SECONDS"):
        monkeypatch.delenv(f"MAPPA_AUTH_{name}", raising=False)
    load_auth_settings.cache_clear()
    yield
    load_auth_settings.cache_clear()


def _settings(**overrides: Any) -> AuthSettings:
    return AuthSettings(**{"jwt_key": KEY, **overrides})


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "u-1f3a",
        "agency": "probation",
        "role": "offender-manager",
        "area": "N01",
        "aud": "mappa-platform",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any] | None = None, key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(_claims() if claims is None else claims, key, algorithm=algorithm)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned_token() -> str:
    """alg=none, built by hand: no library will sign one."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."


def test_a_valid_token_names_the_principal() -> None:
    principal = verify(_token(), _settings())
    assert principal == Principal(
        user="u-1f3a", agency=Agency.PROBATION, role=Role.OFFENDER_MANAGER, area="N01"
    )
    assert principal.responsible_authority


@pytest.mark.parametrize(
    ("agency", "responsible"),
    [
        ("police", True),
        ("prison", True),
        ("probation", True),
        ("nhs", False),
        ("yot", False),
        ("ukvi", False),
    ],
)
def test_the_responsible_authority_is_police_prison_and_probation(agency: str, responsible: bool) -> None:
    assert verify(_token(_claims(agency=agency)), _settings()).responsible_authority is responsible


def test_an_audience_list_containing_the_platform_is_accepted() -> None:
    assert verify(_token(_claims(aud=["other-app", "mappa-platform"])), _settings()).user == "u-1f3a"


def test_an_expiry_within_the_leeway_is_accepted() -> None:
    assert verify(_token(_claims(exp=int(time.time()) - 5)), _settings()).area == "N01"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(_token(key=OTHER_KEY), "signature is invalid", id="bad-signature"),
        pytest.param(_token(_claims(exp=int(time.time()) - 120)), "expired", id="expired"),
        pytest.param(_token(_claims(nbf=int(time.time()) + 600)), "not valid yet", id="not-yet-valid"),
        pytest.param(_token(_claims(aud="another-platform")), "not meant for this platform", id="audience"),
        pytest.param(_token(_claims(exp=None)), "'exp'", id="no-exp"),
        pytest.param(_token(_claims(aud=None)), "'aud'", id="no-aud"),
        pytest.param(_token(_claims(sub=None)), "'sub'", id="no-sub"),
        pytest.param(_token(_claims(agency=None)), "'agency'", id="no-agency"),
        pytest.param(_token(_claims(role=None)), "'role'", id="no-role"),
        pytest.param(_token(_claims(area=None)), "'area'", id="no-area"),
        pytest.param(_token(_claims(agency="mi5")), "unknown agency", id="unknown-agency"),
        pytest.param(_token(_claims(agency=["police"])), "unknown agency", id="agency-not-a-string"),
        pytest.param(_token(_claims(role="superuser")), "unknown role", id="unknown-role"),
        pytest.param(_token(_claims(area="N01; DROP")), "area", id="bad-area"),
        pytest.param(_token(_claims(sub="")), "subject", id="empty-sub"),
        pytest.param(_unsigned_token(), "algorithm is not accepted", id="alg-none"),
        pytest.param(
            _token(key=KEY * 2, algorithm="HS512"), "algorithm is not accepted", id="alg-not-listed"
        ),
        pytest.param("not.a.token", "malformed", id="garbage"),
    ],
)
def test_these_tokens_are_refused_without_being_quoted(token: str, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason) as refused:
        verify(token, _settings())
    for part in token.split("."):
        if len(part) > 8:
            assert part not in str(refused.value)


def test_a_configured_issuer_is_required_and_checked() -> None:
    settings = _settings(jwt_issuer="https://idp.mappa.test")
    assert verify(_token(_claims(iss="https://idp.mappa.test")), settings).user == "u-1f3a"
    with pytest.raises(Unauthorized, match="issuer"):
        verify(_token(_claims(iss="https://elsewhere.test")), settings)
    with pytest.raises(Unauthorized, match="'iss'"):
        verify(_token(), settings)


def test_without_a_key_every_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="not configured"):
        verify(_token(), AuthSettings())
    with pytest.raises(Unauthorized, match="not configured"):
        verify(_token())  # from the environment, which has no key


def test_the_key_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    assert verify(_token()).user == "u-1f3a"


@pytest.mark.parametrize("algorithms", ["none", "NONE", "HS256,none", '["HS256", "none"]', " None "])
def test_the_none_algorithm_is_refused_by_the_settings(
    monkeypatch: pytest.MonkeyPatch, algorithms: str
) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_ALGORITHMS", algorithms)
    with pytest.raises(ValidationError, match="never accepted"):
        AuthSettings(jwt_key=KEY)


def test_algorithms_are_read_as_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_ALGORITHMS", "HS256, HS384")
    assert AuthSettings(jwt_key=KEY * 2).jwt_algorithms == ("HS256", "HS384")
    with pytest.raises(ValidationError, match="unsupported"):
        AuthSettings(jwt_key=KEY, jwt_algorithms="HS257")


def test_a_short_hmac_key_is_refused_and_never_echoed() -> None:
    with pytest.raises(ValidationError, match="too short") as refused:
        AuthSettings(jwt_key="shortsecret")
    assert "shortsecret" not in str(refused.value)


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_with_a_public_key_and_no_algorithm_confusion() -> None:
    private, public = _rsa_pair()
    settings = AuthSettings(jwt_key=public, jwt_algorithms="RS256")
    assert verify(_token(key=private, algorithm="RS256"), settings).agency is Agency.PROBATION
    # The classic attack: sign HS256 with the (public) verification key as the HMAC secret.
    header, payload = _b64({"alg": "HS256", "typ": "JWT"}), _b64(_claims())
    mac = hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(Unauthorized, match="algorithm is not accepted"):
        verify(forged, settings)
    with pytest.raises(ValidationError, match="not a usable HS256"):
        AuthSettings(jwt_key=public, jwt_algorithms="RS256,HS256")


# --- the FastAPI dependencies, over HTTP -------------------------------------------------------


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/whoami")
    async def whoami(principal: Authenticated, purpose: Purpose) -> dict[str, str]:
        return {
            "user": principal.user,
            "agency": principal.agency,
            "area": principal.area,
            "purpose": purpose,
        }

    app.dependency_overrides[auth_settings] = lambda: _settings()
    return app


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    app = _app()
    # The socket is bound here, so the port is free and known before uvicorn starts.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            yield Api(app, client)
    finally:
        server.should_exit = True
        await task
        sock.close()


def _auth(token: str, purpose: str | None = "MAPPA level 2 meeting preparation") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if purpose is not None:
        headers["X-Purpose"] = purpose
    return headers


async def test_a_valid_request_is_served_with_the_principal_and_purpose(api: Api) -> None:
    response = await api.client.get("/whoami", headers=_auth(_token()))
    assert response.status_code == 200
    assert response.json() == {
        "user": "u-1f3a",
        "agency": "probation",
        "area": "N01",
        "purpose": "MAPPA level 2 meeting preparation",
    }


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Purpose": "review"}, id="no-authorization"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz", "X-Purpose": "review"}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer", "X-Purpose": "review"}, id="empty-bearer"),
    ],
)
async def test_a_request_without_a_bearer_token_is_401(api: Api, headers: dict[str, str]) -> None:
    response = await api.client.get("/whoami", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [_token(key=OTHER_KEY), _unsigned_token(), _token(_claims(exp=1))],
    ids=["bad-sig", "none", "old"],
)
async def test_an_invalid_token_is_401_and_not_echoed(api: Api, token: str) -> None:
    response = await api.client.get("/whoami", headers=_auth(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert token.split(".")[1] not in response.text


@pytest.mark.parametrize("purpose", [None, "", "x" * 201], ids=["missing", "empty", "too-long"])
async def test_a_request_without_a_stated_purpose_is_400(api: Api, purpose: str | None) -> None:
    response = await api.client.get("/whoami", headers=_auth(_token(), purpose))
    assert response.status_code == 400
    assert "X-Purpose" in response.json()["detail"]


async def test_without_a_key_in_the_environment_every_request_is_401(api: Api) -> None:
    del api.app.dependency_overrides[auth_settings]  # the real settings, from an environment without a key
    for headers in (_auth(_token()), _auth(_unsigned_token()), {"X-Purpose": "review"}):
        response = await api.client.get("/whoami", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json() == {"detail": "authentication is not configured on this server"}


async def test_invalid_settings_in_the_environment_refuse_every_request(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    monkeypatch.setenv("MAPPA_AUTH_JWT_ALGORITHMS", "none")
    del api.app.dependency_overrides[auth_settings]
    response = await api.client.get("/whoami", headers=_auth(_unsigned_token()))
    assert response.status_code == 401
    assert response.json() == {"detail": "authentication is not configured on this server"}


async def test_the_environment_key_serves_requests(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    del api.app.dependency_overrides[auth_settings]
    assert (await api.client.get("/whoami", headers=_auth(_token()))).status_code == 200


# --- the development token CLI ---------------------------------------------------------------

_CLI = ["--user", "u-77", "--agency", "police", "--role", "public-protection-officer", "--area", "N01"]


def test_the_cli_prints_a_token_the_platform_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    assert tokens.main([*_CLI, "--minutes", "5"]) == 0
    token = capsys.readouterr().out.strip()
    assert verify(token) == Principal(
        user="u-77", agency=Agency.POLICE, role=Role.PUBLIC_PROTECTION_OFFICER, area="N01"
    )


def test_the_cli_sets_the_audience_it_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    assert tokens.main([*_CLI, "--audience", "levels-api"]) == 0
    token = capsys.readouterr().out.strip()
    with pytest.raises(Unauthorized, match="not meant for this platform"):
        verify(token)
    assert verify(token, _settings(jwt_audience="levels-api")).user == "u-77"


def test_the_cli_refuses_to_run_without_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        tokens.main(_CLI)
    assert refused.value.code == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert "MAPPA_AUTH_JWT_KEY is not set" in out.err


@pytest.mark.parametrize("argv", [[*_CLI, "--minutes", "0"], [*_CLI[:3], "mi5", *_CLI[4:]]])
def test_the_cli_refuses_bad_arguments(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    with pytest.raises(SystemExit) as refused:
        tokens.main(argv)
    assert refused.value.code == 2


def test_the_cli_help_says_development_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tokens.main(["--help"])
    assert "DEVELOPMENT ONLY" in capsys.readouterr().out


@pytest.mark.parametrize("purpose", ["   ", "review\x00"], ids=["blank", "control-character"])
async def test_a_purpose_that_states_nothing_is_400(purpose: str) -> None:
    # Clients like httpx will not send these, so the dependency is called directly.
    with pytest.raises(HTTPException) as refused:
        await stated_purpose(purpose)
    assert refused.value.status_code == 400
