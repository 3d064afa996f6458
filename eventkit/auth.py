"""Who is asking: bearer tokens (JWT) checked against a configured key, turned into a Principal.

Every read API sits behind ``current_principal``. The key and the accepted
algorithms come from ``MAPPA_AUTH_*`` settings; without a key every request
is refused with 401 (fail closed), never served and never a crash at import.
Errors name what was wrong with a token, never its contents.
"""

import functools
import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Header, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import get_default_algorithms
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schemas.agencies import RESPONSIBLE_AUTHORITY, Agency
from schemas.agencies import Role as Role  # roles are part of the contract: tokens and events carry them
from schemas.identifiers import is_area_code

log = logging.getLogger(__name__)

DEFAULT_AUDIENCE = "mappa-platform"
PURPOSE_HEADER = "X-Purpose"
MAX_PURPOSE_LENGTH = 200
MAX_USER_LENGTH = 128
# What PyJWT implements, less "none"; an unknown name is a configuration mistake worth refusing.
_SUPPORTED_ALGORITHMS = frozenset(get_default_algorithms()) - {"none"}


@dataclass(frozen=True)
class Principal:
    """The person behind a request: an opaque user id, never a name."""

    user: str
    agency: Agency
    role: Role
    area: str  # a MAPPA area code in the register's format (schemas.identifiers.AREA_PATTERN)

    def __post_init__(self) -> None:
        if not is_area_code(self.area):
            raise ValueError("area is not a MAPPA area code (2 to 8 capital letters and digits, e.g. 01)")

    @property
    def responsible_authority(self) -> bool:
        return self.agency in RESPONSIBLE_AUTHORITY


class Unauthorized(Exception):
    """The request's token was missing, invalid, or cannot be checked; the message never quotes it."""


class AuthSettings(BaseSettings):
    """``MAPPA_AUTH_JWT_KEY`` etc. ``jwt_algorithms`` takes a comma-separated list or a JSON array."""

    # hide_input_in_errors: a rejected key must not end up in a traceback or log.
    model_config = SettingsConfigDict(env_prefix="MAPPA_AUTH_", extra="ignore", hide_input_in_errors=True)

    # An HMAC secret (HS256, development) or a PEM public key (RS256/ES256); no default on purpose.
    jwt_key: SecretStr | None = None
    jwt_algorithms: Annotated[tuple[str, ...], NoDecode] = ("HS256",)
    jwt_audience: str = Field(default=DEFAULT_AUDIENCE, min_length=1)
    jwt_issuer: str | None = None
    leeway_seconds: int = Field(default=30, ge=0, le=300)

    @field_validator("jwt_algorithms", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [a.strip() for a in text.split(",") if a.strip()]
            )
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _allow_list(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one algorithm is required")
        if any(a.strip().lower() == "none" for a in value):
            raise ValueError("'none' is never accepted: tokens must be signed")
        unknown = sorted(set(value) - _SUPPORTED_ALGORITHMS)
        if unknown:
            raise ValueError(f"unsupported algorithms {unknown}")
        return value

    @model_validator(mode="after")
    def _key_fits_every_algorithm(self) -> "AuthSettings":
        # One key must suit every listed algorithm; this also refuses HS256 next to RS256,
        # the mix behind algorithm-confusion attacks (PyJWT will not take a PEM key as a secret).
        if self.jwt_key is None:
            return self
        algorithms = get_default_algorithms()
        for name in self.jwt_algorithms:
            try:
                prepared = algorithms[name].prepare_key(self.jwt_key.get_secret_value())
            except (jwt.InvalidKeyError, ValueError, TypeError):
                raise ValueError(f"jwt_key is not a usable {name} verification key") from None
            if algorithms[name].check_key_length(prepared):
                raise ValueError(f"jwt_key is too short for {name}")
        return self


@functools.cache
def load_auth_settings() -> AuthSettings:
    """The settings from the environment, read once per process (tests call ``cache_clear``)."""
    return AuthSettings()


def auth_settings() -> AuthSettings | None:
    """FastAPI dependency: the settings, or None if they are invalid, so requests are refused, not served."""
    try:
        return load_auth_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_input=False)
        )
        log.error("authentication settings are invalid, refusing every request: %s", problems)
        return None


def _claims(token: str, settings: AuthSettings) -> dict[str, Any]:
    if settings.jwt_key is None:
        raise Unauthorized("authentication is not configured on this server")
    required = ["exp", "aud", "sub", "agency", "role", "area"]
    if settings.jwt_issuer is not None:
        required.append("iss")
    decoder = jwt.PyJWT(options={"require": required, "enforce_minimum_key_length": True})
    try:
        return decoder.decode(
            token,
            settings.jwt_key.get_secret_value(),
            algorithms=list(settings.jwt_algorithms),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.leeway_seconds,
        )
    # Our own words, not PyJWT's: its messages can carry parts of a malformed token.
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token has expired") from None
    except jwt.ImmatureSignatureError:
        raise Unauthorized("token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("token is not meant for this platform") from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("token comes from an issuer this platform does not trust") from None
    except jwt.MissingRequiredClaimError as error:
        raise Unauthorized(f"token lacks the required claim {error.claim!r}") from None
    except jwt.InvalidAlgorithmError:
        raise Unauthorized("token algorithm is not accepted") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("token signature is invalid") from None
    except jwt.DecodeError:
        raise Unauthorized("token is malformed") from None
    except jwt.PyJWTError:
        raise Unauthorized("token could not be verified") from None


def verify(token: str, settings: AuthSettings | None = None) -> Principal:
    """The principal a signed, current token names; ``Unauthorized`` for anything else."""
    if settings is None:
        try:
            settings = load_auth_settings()
        except ValidationError:
            raise Unauthorized("authentication is not configured on this server") from None
    claims = _claims(token, settings)
    user, area = claims["sub"], claims["area"]
    if not isinstance(user, str) or not 0 < len(user) <= MAX_USER_LENGTH:
        raise Unauthorized("token subject is not a user id")
    if not isinstance(area, str) or not is_area_code(area):
        raise Unauthorized("token area is not an area code")
    try:
        agency = Agency(claims["agency"])
    except (ValueError, TypeError):
        raise Unauthorized("token names an unknown agency") from None
    try:
        role = Role(claims["role"])
    except (ValueError, TypeError):
        raise Unauthorized("token names an unknown role") from None
    return Principal(user=user, agency=agency, role=role, area=area)


_bearer = HTTPBearer(auto_error=False, description="A JWT naming the user, agency, role and MAPPA area")


async def current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    settings: Annotated[AuthSettings | None, Depends(auth_settings)],
) -> Principal:
    """FastAPI dependency: the caller, or 401 with ``WWW-Authenticate: Bearer``."""
    if settings is None or settings.jwt_key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentication is not configured on this server",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        return verify(credentials.credentials, settings)
    except Unauthorized as error:
        log.info("bearer token refused: %s", error)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            str(error),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


async def stated_purpose(
    x_purpose: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None,
) -> str:
    """FastAPI dependency: why the caller needs the record (DPA 2018 s.62 justification), or 400."""
    purpose = (x_purpose or "").strip()
    if problem := purpose_problem(purpose, f"the {PURPOSE_HEADER} header"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, problem)
    return purpose


def purpose_problem(purpose: str, named: str = "the purpose") -> str | None:
    """What is wrong with a stated purpose (stripped), or None if it will do."""
    if not purpose:
        return f"{named} must state why"
    if len(purpose) > MAX_PURPOSE_LENGTH:
        return f"{named} is longer than {MAX_PURPOSE_LENGTH} characters"
    if not purpose.isprintable():
        return f"{named} must be printable text"
    return None


# For route signatures: ``async def read(who: Authenticated, purpose: Purpose) -> ...``.
Authenticated = Annotated[Principal, Depends(current_principal)]
Purpose = Annotated[str, Depends(stated_purpose)]
