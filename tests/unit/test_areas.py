"""One MAPPA area format: what the register holds, what tokens and the token CLI accept."""

import re
import secrets

import jwt
import pytest

from eventkit import tokens
from eventkit.auth import AuthSettings, Principal, Role, Unauthorized, verify
from schemas.agencies import Agency
from schemas.events.common import AreaTransferred
from schemas.events.police import ConvictionRecorded
from schemas.identifiers import AREA_PATTERN, is_area_code

KEY = secrets.token_urlsafe(48)
NOT_AREAS = ["n01", "N01; DROP", "1", "ABCDEFGHI", "", " 01", "01\n", "north-01"]


def _pattern(model: type[AreaTransferred] | type[ConvictionRecorded], field: str) -> str:
    [constraint] = [m for m in model.model_fields[field].metadata if hasattr(m, "pattern")]
    return str(constraint.pattern)


def test_the_register_holds_areas_in_this_format() -> None:
    # A transfer names any area code; a police conviction places the nominal in its force's area.
    assert _pattern(AreaTransferred, "to_area") == AREA_PATTERN
    assert _pattern(AreaTransferred, "from_area") == AREA_PATTERN
    force = _pattern(ConvictionRecorded, "recording_force")
    assert all(is_area_code(f"{n:02d}") for n in range(100) if re.fullmatch(force, f"{n:02d}"))


@pytest.mark.parametrize("area", ["01", "62", "N01", "LONDON01"])
def test_area_codes(area: str) -> None:
    assert is_area_code(area)
    assert Principal(user="u-1", agency=Agency.POLICE, role=Role.OFFENDER_MANAGER, area=area).area == area


@pytest.mark.parametrize("area", NOT_AREAS)
def test_a_principal_is_never_in_an_area_the_register_cannot_hold(area: str) -> None:
    assert not is_area_code(area)
    with pytest.raises(ValueError, match="area"):
        Principal(user="u-1", agency=Agency.POLICE, role=Role.OFFENDER_MANAGER, area=area)


@pytest.mark.parametrize("area", NOT_AREAS)
def test_a_token_naming_another_kind_of_area_is_refused(area: str) -> None:
    claims = {
        "sub": "u-1",
        "agency": "police",
        "role": "offender-manager",
        "area": area,
        "aud": "mappa-platform",
    }
    token = jwt.encode({**claims, "exp": 2_000_000_000}, KEY, algorithm="HS256")
    with pytest.raises(Unauthorized, match="area"):
        verify(token, AuthSettings(jwt_key=KEY))


@pytest.mark.parametrize("area", NOT_AREAS)
def test_the_cli_refuses_an_area_in_another_format(
    area: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    argv = ["--user", "u-1", "--agency", "police", "--role", "offender-manager", "--area", area]
    with pytest.raises(SystemExit) as refused:
        tokens.main(argv)
    assert refused.value.code == 2
    assert "is not a MAPPA area code" in capsys.readouterr().err


def test_the_cli_help_gives_an_area_as_nominals_carry_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tokens.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    [example] = re.findall(r"e\.g\. (\S+)", help_text.split("--area AREA", 1)[1])
    assert example == "01"
    assert is_area_code(example)
    assert "--area 01" in (tokens.__doc__ or "")


def test_the_cli_token_carries_the_area(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPPA_AUTH_JWT_KEY", KEY)
    argv = ["--user", "u-1", "--agency", "police", "--role", "offender-manager", "--area", "01"]
    assert tokens.main(argv) == 0
    assert verify(capsys.readouterr().out.strip(), AuthSettings(jwt_key=KEY)).area == "01"
