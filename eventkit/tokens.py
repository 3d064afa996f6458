"""Development tokens, for development and tests only.

``python -m eventkit.tokens --user U --agency police --role offender-manager --area 01``
prints one. Never use them against real data: real tokens come from the agencies'
identity provider, signed with a key this platform never holds. The token
is signed HS256 with ``MAPPA_AUTH_JWT_KEY`` and printed on stdout alone.
"""

import argparse
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import jwt
from pydantic import ValidationError

from eventkit.auth import DEFAULT_AUDIENCE, AuthSettings, Principal, Role
from schemas.agencies import Agency
from schemas.identifiers import AREA_PATTERN, is_area_code

MAX_MINUTES = 24 * 60


def issue(
    principal: Principal,
    *,
    key: str,
    minutes: int = 60,
    audience: str = DEFAULT_AUDIENCE,
    issuer: str | None = None,
    now: datetime | None = None,
) -> str:
    """An HS256 token for ``principal`` valid for ``minutes``."""
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": principal.user,
        "agency": str(principal.agency),
        "role": str(principal.role),
        "area": principal.area,
        "aud": audience,
        "iat": issued,
        "exp": issued + timedelta(minutes=minutes),
        "jti": str(uuid.uuid4()),
    }
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, key, algorithm="HS256")


def _area(value: str) -> str:
    if not is_area_code(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a MAPPA area code ({AREA_PATTERN}, e.g. 01)")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m eventkit.tokens",
        description="Print a bearer token for DEVELOPMENT ONLY, signed HS256 with MAPPA_AUTH_JWT_KEY. "
        "Never use it against real data: real tokens come from the identity provider.",
    )
    parser.add_argument("--user", required=True, help="opaque user id (the sub claim), never a name")
    parser.add_argument("--agency", required=True, choices=[a.value for a in Agency])
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument(
        "--area",
        required=True,
        type=_area,
        help="MAPPA area code as nominals carry it: 2 to 8 capital letters and digits, e.g. 01 "
        "(a nominal placed by a police conviction is in the recording force's area)",
    )
    parser.add_argument("--minutes", type=int, default=60, help=f"lifetime, 1 to {MAX_MINUTES} (default 60)")
    parser.add_argument("--audience", help="aud claim (default MAPPA_AUTH_JWT_AUDIENCE or mappa-platform)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.minutes <= MAX_MINUTES:
        parser.error(f"--minutes must be between 1 and {MAX_MINUTES}")
    try:
        settings = AuthSettings()
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "settings" for e in error.errors())
        parser.exit(2, f"refusing: MAPPA_AUTH_* settings are invalid ({fields})\n")
    if settings.jwt_key is None:
        parser.exit(2, "refusing: MAPPA_AUTH_JWT_KEY is not set\n")
    if "HS256" not in settings.jwt_algorithms:
        parser.exit(
            2, "refusing: development tokens are HS256, which MAPPA_AUTH_JWT_ALGORITHMS does not allow\n"
        )
    principal = Principal(user=args.user, agency=Agency(args.agency), role=Role(args.role), area=args.area)
    token = issue(
        principal,
        key=settings.jwt_key.get_secret_value(),
        minutes=args.minutes,
        audience=args.audience or settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
