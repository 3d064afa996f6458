"""Agency identifier formats and their check characters.

- PNC ID (Police National Computer): ``YYYY/NNNNNNNC``; the check character
  is ``CHECK_LETTERS[int(YY + NNNNNNN) % 23]``.
- CRO number (Criminal Records Office): ``NNNNNN/YYC``; the check character
  is ``CHECK_LETTERS[int(YY + NNNNNN) % 23]``.
- Prison (NOMS) number: ``A1234BC``.
- Probation case reference number (CRN): ``X123456``.
- MAPPA area code: 2 to 8 capital letters and digits. A nominal first
  placed by a police conviction is in the recording force's area, its
  two-digit force code (``01``); a transfer may name any area code.
  Tokens name the caller's area in the same format.
"""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

Scheme = Literal["pnc", "cro", "prison-number", "crn"]

CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"

PNC_PATTERN = r"^[0-9]{4}/[0-9]{7}[A-Z]$"
CRO_PATTERN = r"^[0-9]{6}/[0-9]{2}[A-Z]$"
PRISON_NUMBER_PATTERN = r"^[A-Z][0-9]{4}[A-Z]{2}$"
CRN_PATTERN = r"^[A-Z][0-9]{6}$"
AREA_PATTERN = r"^[A-Z0-9]{2,8}$"


def pnc_check_letter(year: int, serial: int) -> str:
    return CHECK_LETTERS[int(f"{year % 100:02d}{serial:07d}") % 23]


def cro_check_letter(serial: int, year: int) -> str:
    return CHECK_LETTERS[int(f"{year % 100:02d}{serial:06d}") % 23]


def format_pnc(year: int, serial: int) -> str:
    return f"{year:04d}/{serial:07d}{pnc_check_letter(year, serial)}"


def format_cro(serial: int, year: int) -> str:
    return f"{serial:06d}/{year % 100:02d}{cro_check_letter(serial, year)}"


def is_valid_pnc(value: str) -> bool:
    if not re.fullmatch(PNC_PATTERN, value):
        return False
    return value[-1] == pnc_check_letter(int(value[:4]), int(value[5:12]))


def is_valid_cro(value: str) -> bool:
    if not re.fullmatch(CRO_PATTERN, value):
        return False
    return value[-1] == cro_check_letter(int(value[:6]), int(value[7:9]))


def is_valid(scheme: Scheme, value: str) -> bool:
    """Whether ``value`` is a well-formed identifier of ``scheme``, check character included."""
    if scheme == "pnc":
        return is_valid_pnc(value)
    if scheme == "cro":
        return is_valid_cro(value)
    if scheme == "prison-number":
        return re.fullmatch(PRISON_NUMBER_PATTERN, value) is not None
    return re.fullmatch(CRN_PATTERN, value) is not None


def is_area_code(value: str) -> bool:
    """Whether ``value`` is a MAPPA area code as the register holds them (``01``, ``N01``)."""
    return re.fullmatch(AREA_PATTERN, value) is not None


def _require(valid: bool, message: str) -> None:
    if not valid:
        raise ValueError(message)


def _pnc(value: str) -> str:
    _require(is_valid_pnc(value), "not a PNC ID with a valid check character")
    return value


def _cro(value: str) -> str:
    _require(is_valid_cro(value), "not a CRO number with a valid check character")
    return value


PncId = Annotated[str, Field(pattern=PNC_PATTERN), AfterValidator(_pnc)]
CroNumber = Annotated[str, Field(pattern=CRO_PATTERN), AfterValidator(_cro)]
PrisonNumber = Annotated[str, Field(pattern=PRISON_NUMBER_PATTERN)]
Crn = Annotated[str, Field(pattern=CRN_PATTERN)]
