"""Identity resolution: exact matches link, contradictions never merge silently."""

from datetime import date

from services.registry.identity import Claim, Conflict, Matched, NewNominal, Nominal, resolve

DOB = date(1980, 5, 17)
PNC = "2003/0012345N"
CRN = "X123456"
PRISON = "A1234BC"

ANNE = Nominal("p-anne", {"pnc": frozenset({PNC}), "crn": frozenset({CRN})}, DOB)
BOB = Nominal("p-bob", {"prison-number": frozenset({PRISON})}, date(1975, 1, 2))
# Anne after a merge with a duplicate record of hers under another PNC.
MERGED = Nominal("p-anne", {"pnc": frozenset({PNC, "2010/0000001B"}), "crn": frozenset({CRN})}, DOB)


def test_an_unknown_person_is_a_new_nominal() -> None:
    assert resolve(Claim({"pnc": "2010/0000001B"}, DOB), []) == NewNominal()


def test_an_exact_identifier_match_links_new_identifiers() -> None:
    resolution = resolve(Claim({"pnc": PNC, "prison-number": "B9999ZZ"}, DOB), [ANNE])
    assert resolution == Matched("p-anne", {"prison-number": "B9999ZZ"})


def test_a_match_without_date_of_birth_still_links() -> None:
    assert resolve(Claim({"crn": CRN}, None), [ANNE]) == Matched("p-anne", {})


def test_same_pnc_with_another_date_of_birth_is_a_conflict_not_a_merge() -> None:
    resolution = resolve(Claim({"pnc": PNC}, date(1981, 5, 17)), [ANNE])
    assert resolution == Conflict("date-of-birth-differs", ("p-anne",))


def test_one_event_claiming_two_nominals_is_a_conflict() -> None:
    resolution = resolve(Claim({"pnc": PNC, "prison-number": PRISON}, DOB), [ANNE, BOB])
    assert resolution == Conflict("identifiers-match-several-nominals", ("p-anne", "p-bob"))


def test_a_second_identifier_of_the_same_kind_is_a_conflict() -> None:
    resolution = resolve(Claim({"pnc": PNC, "crn": "Y654321"}, DOB), [ANNE])
    assert resolution == Conflict("identifier-differs", ("p-anne",), "crn")


def test_candidates_sharing_no_identifier_are_ignored() -> None:
    assert resolve(Claim({"pnc": PNC}, DOB), [ANNE, BOB]) == Matched("p-anne", {})


def test_after_a_merge_either_identifier_of_a_kind_matches() -> None:
    assert resolve(Claim({"pnc": "2010/0000001B"}, DOB), [MERGED]) == Matched("p-anne", {})
    assert resolve(Claim({"pnc": PNC, "crn": CRN}, DOB), [MERGED]) == Matched("p-anne", {})


def test_after_a_merge_a_third_identifier_of_a_kind_is_still_a_conflict() -> None:
    resolution = resolve(Claim({"crn": CRN, "pnc": "2011/0000002C"}, DOB), [MERGED])
    assert resolution == Conflict("identifier-differs", ("p-anne",), "pnc")
