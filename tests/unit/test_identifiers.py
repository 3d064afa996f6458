import pytest

from eventkit.synthetic import Synthetic
from schemas.identifiers import (
    CRN_PATTERN,
    PRISON_NUMBER_PATTERN,
    Scheme,
    format_cro,
    format_pnc,
    is_valid,
    is_valid_cro,
    is_valid_pnc,
)


@pytest.mark.parametrize(
    ("year", "serial", "expected"),
    [
        # check letter = "ZABCDEFGHJKLMNPQRTUVWXY"[int(YY + serial) % 23]
        (2003, 12345, "2003/0012345N"),  # 30012345 % 23 = 13 -> N
        (1999, 1, "1999/0000001G"),  # 990000001 % 23 = 7 -> G
        (2000, 0, "2000/0000000Z"),  # 0 % 23 = 0 -> Z
    ],
)
def test_pnc_check_letter(year: int, serial: int, expected: str) -> None:
    assert format_pnc(year, serial) == expected
    assert is_valid_pnc(expected)


@pytest.mark.parametrize("bad", ["2003/0012345X", "2003/001234N", "03/0012345N", "2003-0012345N"])
def test_pnc_rejects_wrong_check_letter_or_shape(bad: str) -> None:
    assert not is_valid_pnc(bad)


def test_cro_check_letter_round_trip() -> None:
    value = format_cro(123456, 1994)
    assert value.startswith("123456/94")
    assert is_valid_cro(value)
    assert not is_valid_cro(value[:-1] + ("A" if value[-1] != "A" else "B"))


def test_synthetic_identifiers_are_well_formed() -> None:
    import re

    synthetic = Synthetic(seed=3)
    for _ in range(200):
        assert is_valid_pnc(synthetic.pnc_id())
        assert is_valid_cro(synthetic.cro_number())
        assert re.fullmatch(PRISON_NUMBER_PATTERN, synthetic.prison_number())
        assert re.fullmatch(CRN_PATTERN, synthetic.crn())


@pytest.mark.parametrize(
    ("scheme", "value", "valid"),
    [
        ("pnc", "2003/0012345N", True),
        ("pnc", "2003/0012345X", False),
        ("cro", format_cro(4521, 2001), True),
        ("prison-number", "A1234BC", True),
        ("prison-number", "A1234B", False),
        ("crn", "X123456", True),
        ("crn", "123456X", False),
    ],
)
def test_each_scheme_is_validated(scheme: Scheme, value: str, valid: bool) -> None:
    assert is_valid(scheme, value) is valid
