"""Autopilot's 19 built-in field types (`Twilio.NUMBER`, `Twilio.YES_NO`, …).

The list is closed: there is no `Twilio.ZIP_CODE` or `Twilio.AMOUNT`. The names are written here (not read
from a data file at run time). The `UB…` SIDs are the constants shipped by the Autopilot CLI's core
library; they appear to be the same in every account [uncertain], so the kit accepts them as aliases of
the names (our choice). Names are case-sensitive; `ignore_case=True` accepts legacy spellings such as
`Twilio.Number` [uncertain whether Twilio did].
"""

from __future__ import annotations

import difflib

BUILTIN_FIELD_TYPES: frozenset[str] = frozenset(
    {
        "Twilio.ALPHANUMERIC",
        "Twilio.CITY",
        "Twilio.COUNTRY",
        "Twilio.COUNTRY_ISO_ALPHA2",
        "Twilio.COUNTRY_ISO_ALPHA3",
        "Twilio.CURRENCY",
        "Twilio.DATE",
        "Twilio.DAY_OF_WEEK",
        "Twilio.EMAIL",
        "Twilio.FIRST_NAME",
        "Twilio.LANGUAGE",
        "Twilio.LAST_NAME",
        "Twilio.MONTH",
        "Twilio.NUMBER",
        "Twilio.NUMBER_SEQUENCE",
        "Twilio.PHONE_NUMBER",
        "Twilio.TIME",
        "Twilio.US_STATE",
        "Twilio.YES_NO",
    }
)

# SID → name, for exports that name a built-in type by its SID.
BUILTIN_FIELD_TYPE_SIDS: dict[str, str] = {
    "UB377f7bb9716a4200563feeb205c4b98a": "Twilio.YES_NO",
    "UB2d5c8ef1654c60cbf8a178c206314612": "Twilio.NUMBER",
    "UB38ae14ac8665efbcaafa967eb7da9ded": "Twilio.NUMBER_SEQUENCE",
    "UB9bce39a559ebba8ad7cc0eb050b006f9": "Twilio.ALPHANUMERIC",
    "UBeb96371fcad6f2de0aa3b7b2ccb0edad": "Twilio.PHONE_NUMBER",
    "UB98df8f10368a8219e8c502159ecb0d99": "Twilio.DATE",
    "UB299b79bec26e8de166658d66cc35f191": "Twilio.TIME",
    "UB04cc3caa97eebecb37d7306941fead79": "Twilio.FIRST_NAME",
    "UB1acd1e47b32288fedb829b2da7e1b161": "Twilio.LAST_NAME",
    "UB36e50a2caa1b826ce7da4aaa444cec08": "Twilio.EMAIL",
    "UB4130bb37b688db48eee4c6225c442c39": "Twilio.CITY",
    "UB68c611f8170b88406f14dd0f4daf2d22": "Twilio.US_STATE",
    "UB33a70fdcf028f0b38718fa3af13fa0ad": "Twilio.COUNTRY",
    "UB263f22d51bad0933ee6df561b5eb4174": "Twilio.COUNTRY_ISO_ALPHA2",
    "UB67553e526f26837242dfb54cd8b6ab0c": "Twilio.COUNTRY_ISO_ALPHA3",
    "UB6158e3f6fc519ac5e8aee4eca7fc63b9": "Twilio.MONTH",
    "UBd4fc42d42a99ccff01053d6b99d5a5b9": "Twilio.DAY_OF_WEEK",
    "UBee5a6123468ac8691cfa1b21297753c5": "Twilio.CURRENCY",
    "UB90ae830d3ba92630e776aece499e4c3d": "Twilio.LANGUAGE",
}

_BY_UPPER_NAME: dict[str, str] = {name.upper(): name for name in BUILTIN_FIELD_TYPES}


def is_builtin(name: str, *, ignore_case: bool = False) -> bool:
    """True for a built-in type's unique name (exact spelling unless `ignore_case`)."""
    if name in BUILTIN_FIELD_TYPES:
        return True
    return ignore_case and isinstance(name, str) and name.upper() in _BY_UPPER_NAME


def builtin_name(name_or_sid: str, *, ignore_case: bool = False) -> str | None:
    """The canonical built-in name for a name, a `UB…` SID or (with `ignore_case`) a mis-cased name."""
    if name_or_sid in BUILTIN_FIELD_TYPES:
        return name_or_sid
    if name_or_sid in BUILTIN_FIELD_TYPE_SIDS:
        return BUILTIN_FIELD_TYPE_SIDS[name_or_sid]
    if ignore_case and isinstance(name_or_sid, str):
        return _BY_UPPER_NAME.get(name_or_sid.upper())
    return None


def suggest_builtin(name: str) -> str | None:
    """A likely intended built-in name for a typo (`Twilio.PHONENUMBER` → `Twilio.PHONE_NUMBER`), or None."""
    if not isinstance(name, str):
        return None
    squashed = name.upper().replace("_", "").replace(" ", "").replace("-", "")
    if not squashed.startswith("TWILIO."):
        squashed = "TWILIO." + squashed
    for candidate in sorted(BUILTIN_FIELD_TYPES):
        if candidate.upper().replace("_", "") == squashed:
            return candidate
    if name.upper().startswith("TWILIO."):
        close = difflib.get_close_matches(name.upper(), list(_BY_UPPER_NAME), n=1, cutoff=0.8)
        if close:
            return _BY_UPPER_NAME[close[0]]
    return None
