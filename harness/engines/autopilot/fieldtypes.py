"""Field values: Autopilot's 19 built-in field types and an assistant's custom types.

`FieldResolver(assistant, clock)` answers three questions about a field type:

- `parse(field_type, text)`: the whole answer text (a collect answer) read as a value of the type, or
  None when it is not one (the collect then counts a failed attempt);
- `slot_pattern(field_type)`: a regex fragment (no capturing groups) for a `{field}` tag of a sample,
  matched against `normalize(utterance)`;
- `canonical(field_type, matched_text)`: what a slot that matched resolves to (`Field_<f>_Value`).

Every value is a string. Twilio's page of built-in types is gone (docs/field-types.md has the table of
inputs → values and the evidence; /work/shared/reference/field-types.md has the sources), so most rules
below are our choice, made deterministic on purpose. Summary:

- Custom types: a value or a synonym, case-insensitively, gives the canonical value (`synonymOf`); the
  whole answer, or failing that the longest whole-word value inside the answer ("a towel please").
- `Twilio.YES_NO`: "Yes"/"No" from yes/no words or phrases starting with one ("yeah sure", "nope").
- `Twilio.NUMBER`: the first number, digits or English words, as a plain decimal ("3 large towels" →
  "3", "twenty five" → "25", "1,500" → "1500"); ordinals count ("third" → "3").
- `Twilio.NUMBER_SEQUENCE`: every digit in order, leading zeros kept ("oh four one two" → "0412").
- `Twilio.ALPHANUMERIC`: the run of letter/digit groups around a digit, upper-cased ("ab 12-34" → "AB1234").
- `Twilio.PHONE_NUMBER`: 7–15 digits, digits only ("+1 (415) 555-0100" → "14155550100").
- `Twilio.DATE`: YYYY-MM-DD against the clock's today; yearless dates and weekdays mean the next one
  strictly after today ("tomorrow", "next friday", "March 3rd", "7/1", "2023-03-04", "in 2 weeks").
- `Twilio.TIME`: HH:MM, 24-hour ("4pm", "4:30 p.m.", "half past four", "noon", "4 in the afternoon").
- `Twilio.FIRST_NAME` / `LAST_NAME`: lead-ins removed ("my name is"), first / last word, first letter
  upper-cased.
- `Twilio.EMAIL`: the first address, lower-cased; spoken "john dot smith at example dot com" too.
- `Twilio.CITY`: a bundled list (aliases kept as said: "nyc" → "NYC"), else — leniently — any 1–4 word
  answer without digits, title-cased. In samples only the list matches (a lenient slot would swallow
  every short utterance).
- `Twilio.US_STATE`, `COUNTRY`, `COUNTRY_ISO_ALPHA2/3`, `MONTH`, `DAY_OF_WEEK`, `CURRENCY`,
  `LANGUAGE`: names, abbreviations and codes from small built-in tables → a canonical name or code.
  Two/three-letter codes that are also English words ("in", "it", "us") count only as the whole answer
  or when written in capitals.

Unknown type names raise `EngineError` (the loader rejects them earlier; reaching here is a caller bug).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from harness.clock import Clock
from harness.errors import EngineError
from harness.models.assistant import Assistant, FieldType
from harness.models.field_types import BUILTIN_FIELD_TYPES, builtin_name

# --------------------------------------------------------------------------------------------------
# Text normalisation (shared with the router: samples and utterances are compared in this form)
# --------------------------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['’‘`´]")
# Punctuation inside a value survives (4:30, 7/1, 1,500, jo.smith@x.com, twenty-five, +1…, $5);
# everything else becomes a word break, so "Hello." == "hello" and "can I have more {item}?" ends at the tag.
_PUNCT = re.compile(
    r"(?<=\d)[,:/](?=\d)"
    r"|(?<=\w)[.@\-](?=\w)"
    r"|[+$€£¥₹₩₽₪](?=\d)"
    r"|([^\w\s])"
)


def normalize(text: str) -> str:
    """Lower-case, apostrophes dropped ("I'm" → "im"), other punctuation → spaces unless inside a value."""
    lowered = _APOSTROPHES.sub("", text.lower())
    spaced = _PUNCT.sub(lambda m: " " if m.group(1) is not None else m.group(0), lowered)
    return " ".join(spaced.split())


def word_set(text: str) -> frozenset[str]:
    """The space-separated words of `text` (for long word tables)."""
    return frozenset(text.split())


def _alternation(phrases: Iterable[str]) -> str:
    """A non-capturing alternation, longest first (so "toilet paper" beats "toilet")."""
    unique = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not unique:
        return "(?!)"  # matches nothing
    return "(?:" + "|".join(re.escape(p) for p in unique) + ")"


def _title(words: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in words.split())


# --------------------------------------------------------------------------------------------------
# Word tables
# --------------------------------------------------------------------------------------------------

YES_WORDS = ("yes", "y", "yeah", "yea", "yep", "yup", "ya", "yah", "sure", "ok", "okay", "correct", "right",
             "affirmative", "absolutely", "definitely", "certainly", "of course", "uh huh")
NO_WORDS = ("no", "n", "nope", "nah", "not", "negative", "incorrect", "wrong", "never")

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINAL_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9}
_ORDINAL_TEENS = {"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
                  "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19}
_ORDINAL_TENS = {"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
                 "seventieth": 70, "eightieth": 80, "ninetieth": 90}
_NUMBER_WORDS = (set(_UNITS) | set(_TEENS) | set(_TENS) | set(_SCALES) | {"hundred", "hundredth"}
                 | set(_ORDINAL_UNITS) | set(_ORDINAL_TEENS) | set(_ORDINAL_TENS))
_SPOKEN_DIGITS = {**{w: str(v) for w, v in _UNITS.items()}, "oh": "0", "o": "0"}

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_MONTH_WORDS: dict[str, int] = {}
for _index, _name in enumerate(MONTHS, start=1):
    _MONTH_WORDS[_name.lower()] = _index
    _MONTH_WORDS[_name.lower()[:3]] = _index
_MONTH_WORDS["sept"] = 9

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_WORDS: dict[str, int] = {}
for _index, _name in enumerate(WEEKDAYS):
    _WEEKDAY_WORDS[_name.lower()] = _index
    _WEEKDAY_WORDS[_name.lower() + "s"] = _index  # "mondays"
    _WEEKDAY_WORDS[_name.lower()[:3]] = _index
for _abbr, _index in (("tues", 1), ("weds", 2), ("thur", 3), ("thurs", 3)):
    _WEEKDAY_WORDS[_abbr] = _index

# ISO 3166-1: alpha-2, alpha-3, English short name (simplified where the ISO name is a mouthful).
_COUNTRY_TABLE = """
AD AND Andorra|AE ARE United Arab Emirates|AF AFG Afghanistan|AG ATG Antigua and Barbuda|AI AIA Anguilla
AL ALB Albania|AM ARM Armenia|AO AGO Angola|AQ ATA Antarctica|AR ARG Argentina|AS ASM American Samoa
AT AUT Austria|AU AUS Australia|AW ABW Aruba|AX ALA Aland Islands|AZ AZE Azerbaijan
BA BIH Bosnia and Herzegovina|BB BRB Barbados|BD BGD Bangladesh|BE BEL Belgium|BF BFA Burkina Faso
BG BGR Bulgaria|BH BHR Bahrain|BI BDI Burundi|BJ BEN Benin|BL BLM Saint Barthelemy|BM BMU Bermuda
BN BRN Brunei|BO BOL Bolivia|BQ BES Bonaire, Sint Eustatius and Saba|BR BRA Brazil|BS BHS Bahamas
BT BTN Bhutan|BV BVT Bouvet Island|BW BWA Botswana|BY BLR Belarus|BZ BLZ Belize|CA CAN Canada
CC CCK Cocos Islands|CD COD Democratic Republic of the Congo|CF CAF Central African Republic|CG COG Congo
CH CHE Switzerland|CI CIV Cote d'Ivoire|CK COK Cook Islands|CL CHL Chile|CM CMR Cameroon|CN CHN China
CO COL Colombia|CR CRI Costa Rica|CU CUB Cuba|CV CPV Cabo Verde|CW CUW Curacao|CX CXR Christmas Island
CY CYP Cyprus|CZ CZE Czechia|DE DEU Germany|DJ DJI Djibouti|DK DNK Denmark|DM DMA Dominica
DO DOM Dominican Republic|DZ DZA Algeria|EC ECU Ecuador|EE EST Estonia|EG EGY Egypt|EH ESH Western Sahara
ER ERI Eritrea|ES ESP Spain|ET ETH Ethiopia|FI FIN Finland|FJ FJI Fiji|FK FLK Falkland Islands
FM FSM Micronesia|FO FRO Faroe Islands|FR FRA France|GA GAB Gabon|GB GBR United Kingdom|GD GRD Grenada
GE GEO Georgia|GF GUF French Guiana|GG GGY Guernsey|GH GHA Ghana|GI GIB Gibraltar|GL GRL Greenland
GM GMB Gambia|GN GIN Guinea|GP GLP Guadeloupe|GQ GNQ Equatorial Guinea|GR GRC Greece
GS SGS South Georgia and the South Sandwich Islands|GT GTM Guatemala|GU GUM Guam|GW GNB Guinea-Bissau
GY GUY Guyana|HK HKG Hong Kong|HM HMD Heard Island and McDonald Islands|HN HND Honduras|HR HRV Croatia
HT HTI Haiti|HU HUN Hungary|ID IDN Indonesia|IE IRL Ireland|IL ISR Israel|IM IMN Isle of Man|IN IND India
IO IOT British Indian Ocean Territory|IQ IRQ Iraq|IR IRN Iran|IS ISL Iceland|IT ITA Italy|JE JEY Jersey
JM JAM Jamaica|JO JOR Jordan|JP JPN Japan|KE KEN Kenya|KG KGZ Kyrgyzstan|KH KHM Cambodia|KI KIR Kiribati
KM COM Comoros|KN KNA Saint Kitts and Nevis|KP PRK North Korea|KR KOR South Korea|KW KWT Kuwait
KY CYM Cayman Islands|KZ KAZ Kazakhstan|LA LAO Laos|LB LBN Lebanon|LC LCA Saint Lucia|LI LIE Liechtenstein
LK LKA Sri Lanka|LR LBR Liberia|LS LSO Lesotho|LT LTU Lithuania|LU LUX Luxembourg|LV LVA Latvia|LY LBY Libya
MA MAR Morocco|MC MCO Monaco|MD MDA Moldova|ME MNE Montenegro|MF MAF Saint Martin|MG MDG Madagascar
MH MHL Marshall Islands|MK MKD North Macedonia|ML MLI Mali|MM MMR Myanmar|MN MNG Mongolia|MO MAC Macao
MP MNP Northern Mariana Islands|MQ MTQ Martinique|MR MRT Mauritania|MS MSR Montserrat|MT MLT Malta
MU MUS Mauritius|MV MDV Maldives|MW MWI Malawi|MX MEX Mexico|MY MYS Malaysia|MZ MOZ Mozambique
NA NAM Namibia|NC NCL New Caledonia|NE NER Niger|NF NFK Norfolk Island|NG NGA Nigeria|NI NIC Nicaragua
NL NLD Netherlands|NO NOR Norway|NP NPL Nepal|NR NRU Nauru|NU NIU Niue|NZ NZL New Zealand|OM OMN Oman
PA PAN Panama|PE PER Peru|PF PYF French Polynesia|PG PNG Papua New Guinea|PH PHL Philippines
PK PAK Pakistan|PL POL Poland|PM SPM Saint Pierre and Miquelon|PN PCN Pitcairn|PR PRI Puerto Rico
PS PSE Palestine|PT PRT Portugal|PW PLW Palau|PY PRY Paraguay|QA QAT Qatar|RE REU Reunion|RO ROU Romania
RS SRB Serbia|RU RUS Russia|RW RWA Rwanda|SA SAU Saudi Arabia|SB SLB Solomon Islands|SC SYC Seychelles
SD SDN Sudan|SE SWE Sweden|SG SGP Singapore|SH SHN Saint Helena|SI SVN Slovenia|SJ SJM Svalbard and Jan Mayen
SK SVK Slovakia|SL SLE Sierra Leone|SM SMR San Marino|SN SEN Senegal|SO SOM Somalia|SR SUR Suriname
SS SSD South Sudan|ST STP Sao Tome and Principe|SV SLV El Salvador|SX SXM Sint Maarten|SY SYR Syria
SZ SWZ Eswatini|TC TCA Turks and Caicos Islands|TD TCD Chad|TF ATF French Southern Territories|TG TGO Togo
TH THA Thailand|TJ TJK Tajikistan|TK TKL Tokelau|TL TLS Timor-Leste|TM TKM Turkmenistan|TN TUN Tunisia
TO TON Tonga|TR TUR Turkey|TT TTO Trinidad and Tobago|TV TUV Tuvalu|TW TWN Taiwan|TZ TZA Tanzania
UA UKR Ukraine|UG UGA Uganda|UM UMI United States Minor Outlying Islands|US USA United States of America
UY URY Uruguay|UZ UZB Uzbekistan|VA VAT Vatican City|VC VCT Saint Vincent and the Grenadines
VE VEN Venezuela|VG VGB British Virgin Islands|VI VIR US Virgin Islands|VN VNM Vietnam|VU VUT Vanuatu
WF WLF Wallis and Futuna|WS WSM Samoa|YE YEM Yemen|YT MYT Mayotte|ZA ZAF South Africa|ZM ZMB Zambia
ZW ZWE Zimbabwe
"""
COUNTRIES: dict[str, tuple[str, str]] = {}  # alpha-2 → (alpha-3, name)
for _entry in filter(None, "|".join(_COUNTRY_TABLE.strip().split("\n")).split("|")):
    _a2, _a3, _country = _entry.strip().split(" ", 2)
    COUNTRIES[_a2] = (_a3, _country)
_ALPHA3_TO_ALPHA2 = {a3: a2 for a2, (a3, _) in COUNTRIES.items()}
# Other ways people name a country (normalised text → alpha-2); the "us" pronoun is a code, not an alias.
_COUNTRY_ALIASES = {
    "usa": "US", "united states": "US", "the united states": "US", "america": "US", "the states": "US",
    "u s a": "US", "uk": "GB", "u k": "GB", "britain": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "holland": "NL", "the netherlands": "NL",
    "russian federation": "RU", "korea": "KR", "republic of korea": "KR", "viet nam": "VN",
    "ivory coast": "CI", "cote divoire": "CI", "czech republic": "CZ", "burma": "MM", "swaziland": "SZ",
    "cape verde": "CV", "macedonia": "MK", "vatican": "VA", "holy see": "VA", "uae": "AE", "emirates": "AE",
    "drc": "CD", "dr congo": "CD", "congo kinshasa": "CD", "congo brazzaville": "CG", "east timor": "TL",
    "turkiye": "TR", "bosnia": "BA", "the bahamas": "BS", "the gambia": "GM", "the philippines": "PH",
    "persia": "IR", "brunei darussalam": "BN", "micronesia": "FM", "saint kitts": "KN", "st lucia": "LC",
    "trinidad": "TT", "palestinian territories": "PS", "deutschland": "DE", "espana": "ES", "españa": "ES",
    "mainland china": "CN", "prc": "CN", "the uk": "GB", "the usa": "US", "the us": "US",
}
# The US is named as in the one observed value; the rest use the table's names.
_COUNTRY_KEYS: dict[str, str] = {normalize(name): a2 for a2, (_, name) in COUNTRIES.items()}
_COUNTRY_KEYS.update(_COUNTRY_ALIASES)

# USPS codes → names: the 50 states, DC and the inhabited territories.
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "District of Columbia", "PR": "Puerto Rico", "GU": "Guam",
    "VI": "US Virgin Islands", "AS": "American Samoa", "MP": "Northern Mariana Islands",
}
_STATE_KEYS: dict[str, str] = {normalize(name): name for name in US_STATES.values()}
_STATE_KEYS.update({"washington dc": "District of Columbia", "washington d c": "District of Columbia",
                    "d c": "District of Columbia", "virgin islands": "US Virgin Islands"})

# ISO 4217 codes people are likely to say, and names/symbols → code.
CURRENCY_CODES = word_set(
    "USD EUR GBP JPY CNY CAD AUD NZD CHF SEK NOK DKK ISK PLN CZK HUF RON BGN RSD RUB UAH TRY ILS "
    "AED SAR QAR KWD BHD OMR JOD EGP MAD DZD TND NGN GHS KES TZS UGX ETB ZAR XOF XAF INR PKR BDT "
    "LKR NPR IDR MYR SGD THB VND PHP KRW HKD TWD MXN BRL ARS CLP COP PEN UYU BOB PYG DOP CRC GTQ "
    "JMD TTD IRR IQD KZT"
)
_CURRENCY_NAMES = {
    "dollar": "USD", "dollars": "USD", "us dollar": "USD", "us dollars": "USD", "american dollars": "USD",
    "american dollar": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP",
    "pound sterling": "GBP", "pounds sterling": "GBP", "sterling": "GBP", "british pounds": "GBP",
    "quid": "GBP", "yen": "JPY", "japanese yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY",
    "chinese yuan": "CNY",
    "canadian dollar": "CAD", "canadian dollars": "CAD", "australian dollar": "AUD",
    "australian dollars": "AUD", "new zealand dollars": "NZD", "new zealand dollar": "NZD",
    "hong kong dollars": "HKD", "hong kong dollar": "HKD", "singapore dollars": "SGD",
    "singapore dollar": "SGD", "swiss franc": "CHF", "swiss francs": "CHF", "franc": "CHF", "francs": "CHF",
    "peso": "MXN", "pesos": "MXN", "mexican pesos": "MXN", "mexican peso": "MXN", "argentine pesos": "ARS",
    "rupee": "INR", "rupees": "INR", "indian rupees": "INR", "rupiah": "IDR", "won": "KRW",
    "korean won": "KRW",
    "brazilian real": "BRL", "brazilian reais": "BRL", "reais": "BRL", "ruble": "RUB", "rubles": "RUB",
    "rouble": "RUB", "roubles": "RUB", "krona": "SEK", "kronor": "SEK", "swedish krona": "SEK",
    "norwegian krone": "NOK", "danish krone": "DKK", "rand": "ZAR", "lira": "TRY", "turkish lira": "TRY",
    "shekel": "ILS", "shekels": "ILS", "dirham": "AED", "dirhams": "AED", "riyal": "SAR", "riyals": "SAR",
    "baht": "THB", "ringgit": "MYR", "zloty": "PLN", "forint": "HUF", "naira": "NGN", "dong": "VND",
}
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB",
                     "₪": "ILS"}
_CODE_LOOKALIKES = frozenset({"try", "all", "top", "cup", "mad", "pen", "bob", "cop", "dop"})

# English language names; ISO 639-1 codes; native names and other aliases.
_LANGUAGE_TABLE = (
    "en English|es Spanish|fr French|de German|it Italian|pt Portuguese|nl Dutch|ru Russian|zh Chinese|"
    "ja Japanese|ko Korean|ar Arabic|hi Hindi|bn Bengali|pa Punjabi|ur Urdu|tr Turkish|vi Vietnamese|th Thai|"
    "id Indonesian|ms Malay|tl Tagalog|pl Polish|uk Ukrainian|cs Czech|sk Slovak|hu Hungarian|ro Romanian|"
    "bg Bulgarian|el Greek|he Hebrew|fa Persian|sv Swedish|no Norwegian|da Danish|fi Finnish|is Icelandic|"
    "ga Irish|cy Welsh|ca Catalan|eu Basque|gl Galician|hr Croatian|sr Serbian|sl Slovenian|lt Lithuanian|"
    "lv Latvian|et Estonian|sw Swahili|am Amharic|so Somali|yo Yoruba|zu Zulu|af Afrikaans|ta Tamil|"
    "te Telugu|mr Marathi|gu Gujarati|kn Kannada|ml Malayalam|ne Nepali|ht Haitian Creole|la Latin"
)
LANGUAGES: dict[str, str] = {}  # code → English name
for _entry in _LANGUAGE_TABLE.split("|"):
    _code, _language = _entry.split(" ", 1)
    LANGUAGES[_code] = _language
_LANGUAGE_KEYS: dict[str, str] = {normalize(name): name for name in LANGUAGES.values()}
_LANGUAGE_KEYS.update({
    "español": "Spanish", "espanol": "Spanish", "castilian": "Spanish", "français": "French",
    "francais": "French", "deutsch": "German", "italiano": "Italian", "português": "Portuguese",
    "portugues": "Portuguese", "nederlands": "Dutch", "flemish": "Dutch", "mandarin": "Chinese",
    "mandarin chinese": "Chinese", "farsi": "Persian", "filipino": "Tagalog", "creole": "Haitian Creole",
    "russkiy": "Russian", "nihongo": "Japanese", "hebrew": "Hebrew", "bahasa": "Indonesian",
})

# Cities (display form) for Twilio.CITY; aliases keep the caller's form (upper-cased abbreviations).
_CITY_TABLE = (
    "New York|New York City|Los Angeles|Chicago|Houston|Phoenix|Philadelphia|San Antonio|San Diego|Dallas|"
    "San Jose|Austin|Jacksonville|San Francisco|Columbus|Fort Worth|Indianapolis|Charlotte|Seattle|Denver|"
    "Washington|Boston|El Paso|Nashville|Detroit|Portland|Las Vegas|Memphis|Louisville|Baltimore|Milwaukee|"
    "Albuquerque|Tucson|Fresno|Sacramento|Kansas City|Atlanta|Miami|Raleigh|Omaha|Minneapolis|Tulsa|"
    "Cleveland|Oakland|New Orleans|Tampa|Honolulu|Pittsburgh|St. Louis|Cincinnati|Orlando|Salt Lake City|"
    "Anchorage|Buffalo|Newark|Brooklyn|London|Paris|Berlin|Madrid|Barcelona|Rome|Milan|Lisbon|Amsterdam|"
    "Brussels|Vienna|Zurich|Geneva|Dublin|Edinburgh|Manchester|Stockholm|Oslo|Copenhagen|Helsinki|Warsaw|"
    "Prague|Budapest|Athens|Istanbul|Moscow|Kyiv|Cairo|Lagos|Nairobi|Johannesburg|Cape Town|Dubai|Tel Aviv|"
    "Mumbai|Delhi|New Delhi|Bangalore|Karachi|Beijing|Shanghai|Hong Kong|Singapore|Tokyo|Osaka|Seoul|"
    "Bangkok|Jakarta|Manila|Sydney|Melbourne|Auckland|Toronto|Montreal|Vancouver|Mexico City|Sao Paulo|"
    "Rio de Janeiro|Buenos Aires|Lima|Bogota|Santiago"
)
_CITY_KEYS: dict[str, str] = {normalize(name): name for name in _CITY_TABLE.split("|")}
_CITY_KEYS.update({"nyc": "NYC", "sf": "SF", "la": "LA", "dc": "DC", "jfk": "JFK", "sfo": "SFO",
                   "lax": "LAX", "philly": "Philly", "vegas": "Vegas", "saint louis": "Saint Louis"})

# Words too common to be a code or a name on their own (ALPHANUMERIC, CITY, names).
_COMMON_WORDS = word_set(
    "a an and are as at be by do for from go he her him his i id im in is it its me my no of on or "
    "our she so the their them they this to up us was we yes you your please thanks thank hi hey "
    "hello ok okay"
)

_MONTH_ALT = _alternation(_MONTH_WORDS)
_WEEKDAY_ALT = _alternation(_WEEKDAY_WORDS)
_NUMBER_WORD_ALT = _alternation(_NUMBER_WORDS)
_ORDINAL_WORD_ALT = _alternation([*_ORDINAL_UNITS, *_ORDINAL_TEENS, *_ORDINAL_TENS])
_SMALL_NUMBER_ALT = _alternation([*_UNITS, *_TEENS, *_TENS])


# --------------------------------------------------------------------------------------------------
# Numbers written as words
# --------------------------------------------------------------------------------------------------

def _classify(word: str) -> tuple[str, int, bool] | None:
    """(kind, value, is_ordinal) of a number word, or None."""
    for table, kind, ordinal in ((_UNITS, "unit", False), (_TEENS, "teen", False), (_TENS, "tens", False),
                                 (_ORDINAL_UNITS, "unit", True), (_ORDINAL_TEENS, "teen", True),
                                 (_ORDINAL_TENS, "tens", True), (_SCALES, "scale", False)):
        if word in table:
            return kind, table[word], ordinal
    if word in ("hundred", "hundredth"):
        return "hundred", 100, word == "hundredth"
    return None


def read_number_words(words: list[str], start: int) -> tuple[int, int, bool] | None:
    """The number spelled by `words[start:]` as (value, end index, ordinal); None if none starts there.

    A word that cannot continue the number ends it: "four thirty" reads as 4 (then 30), "twenty five" as 25.
    """
    total = current = 0
    last: str | None = None
    index = start
    ordinal = False
    while index < len(words):
        word = words[index]
        nxt = words[index + 1] if index + 1 < len(words) else ""
        if word == "and" and last in ("hundred", "scale") and nxt in _NUMBER_WORDS:
            index += 1
            continue
        if word in ("a", "an") and last is None and nxt in ("hundred", *_SCALES):
            current, last = 1, "unit"
            index += 1
            continue
        found = _classify(word)
        if found is None:
            break
        kind, value, is_ordinal = found
        if kind in ("unit", "teen"):
            if last in ("unit", "teen") or (last == "tens" and kind == "teen"):
                break
            current += value
        elif kind == "tens":
            if last in ("unit", "teen", "tens"):
                break
            current += value
        elif kind == "hundred":
            if last in ("hundred",):
                break
            current = (current or 1) * 100
        else:  # thousand, million, billion
            if last == "scale":
                break
            total += (current or 1) * value
            current = 0
        last = kind
        index += 1
        if is_ordinal:
            ordinal = True
            break
    if last is None:
        return None
    return total + current, index, ordinal


_WORD = re.compile(r"[a-z]+")


def _digitize(text: str) -> str:
    """Replace number words by digits ("half past four" → "half past 4", "march third" → "march 3")."""
    matches = list(_WORD.finditer(text))
    words = [m.group(0) for m in matches]
    out: list[str] = []
    cursor = 0
    index = 0
    while index < len(words):
        read = read_number_words(words, index) if words[index] in _NUMBER_WORDS or words[index] in (
            "a", "an") else None
        if read is None or (words[index] in ("a", "an") and read[1] == index + 1):
            index += 1
            continue
        value, end, _ordinal = read
        out.append(text[cursor:matches[index].start()])
        out.append(str(value))
        cursor = matches[end - 1].end()
        index = end
    out.append(text[cursor:])
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Built-in slot patterns (matched against normalize(text); validated afterwards by the parser)
# --------------------------------------------------------------------------------------------------

_AMPM = r"(?:[ap]\.?m|[ap] m)"
_TIME_PERIOD = (r"(?: (?:in the (?:morning|afternoon|evening)|at night|tonight"
                r"|this (?:morning|afternoon|evening)))?")
_TIME_SLOT = (
    r"(?:(?:at )?(?:noon|midday|midnight"
    rf"|(?:half|quarter|\d{{1,2}}|{_SMALL_NUMBER_ALT})(?: minutes)? (?:past|after|to|before|til|till)"
    rf" (?:\d{{1,2}}|{_SMALL_NUMBER_ALT}|noon|midnight)"
    rf"|\d{{1,2}}[:.]\d{{2}}(?: ?{_AMPM})?"
    rf"|\d{{1,2}} ?{_AMPM}"
    rf"|{_SMALL_NUMBER_ALT}(?: {_SMALL_NUMBER_ALT})*(?: ?{_AMPM}| oclock)"
    r"|\d{3,4}(?: hours)?"
    r"|\d{1,2}(?: oclock)?"
    rf"){_TIME_PERIOD})"
)
_DAY_NUM = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORD_ALT}|(?:twenty|thirty) {_ORDINAL_WORD_ALT})"
_DATE_SLOT = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|(?:the )?day (?:after tomorrow|before yesterday)|today|tonight|tomorrow|yesterday"
    rf"|in (?:\d+|a|an|{_SMALL_NUMBER_ALT}) (?:days?|weeks?|months?|years?)"
    rf"|(?:(?:next|this|coming|last|on) )?{_WEEKDAY_ALT}"
    rf"|{_MONTH_ALT} (?:the )?{_DAY_NUM}(?: \d{{4}})?"
    rf"|(?:the )?{_DAY_NUM}(?: of)? {_MONTH_ALT}(?: \d{{4}})?"
    rf"|{_MONTH_ALT} \d{{4}})"
)
_NUMBER_SLOT = (rf"(?:-?\d+(?:,\d{{3}})*(?:\.\d+)?(?:st|nd|rd|th)?"
                rf"|(?:an? )?{_NUMBER_WORD_ALT}(?:[ -](?:and )?{_NUMBER_WORD_ALT})*)")
_DIGIT_WORD_ALT = _alternation([*_SPOKEN_DIGITS, "double", "triple"])
_SEQUENCE_SLOT = rf"(?:(?:\d+|{_DIGIT_WORD_ALT})(?:[ -](?:\d+|{_DIGIT_WORD_ALT}))*)"
_PHONE_SLOT = rf"(?:\+?\d[\d .()-]{{5,}}\d|{_DIGIT_WORD_ALT}(?: (?:\d+|{_DIGIT_WORD_ALT})){{6,}})"
_EMAIL_SLOT = (r"(?:[\w.%+-]+@[\w-]+(?:\.[\w-]+)+"
               r"|\w+(?: (?:dot|underscore|dash) \w+)* at \w+(?: dot \w+)+)")
_ALNUM_SLOT = r"(?:(?:[a-z]{1,3}[ -]?)?[a-z0-9]*\d[a-z0-9]*(?:[ -][a-z0-9]*\d[a-z0-9]*)*)"
_NAME_SLOT = r"(?:[^\W\d_][\w'-]*)"

_BUILTIN_SLOTS: dict[str, str] = {
    "Twilio.YES_NO": _alternation(normalize(w) for w in (*YES_WORDS, *NO_WORDS)),
    "Twilio.NUMBER": _NUMBER_SLOT,
    "Twilio.NUMBER_SEQUENCE": _SEQUENCE_SLOT,
    "Twilio.ALPHANUMERIC": _ALNUM_SLOT,
    "Twilio.PHONE_NUMBER": _PHONE_SLOT,
    "Twilio.DATE": _DATE_SLOT,
    "Twilio.TIME": _TIME_SLOT,
    "Twilio.FIRST_NAME": _NAME_SLOT,
    "Twilio.LAST_NAME": _NAME_SLOT,
    "Twilio.EMAIL": _EMAIL_SLOT,
    "Twilio.CITY": _alternation(_CITY_KEYS),
    "Twilio.US_STATE": _alternation([*_STATE_KEYS, *(c.lower() for c in US_STATES)]),
    "Twilio.COUNTRY": _alternation([*_COUNTRY_KEYS, *(c.lower() for c in COUNTRIES),
                                    *(a3.lower() for a3, _ in COUNTRIES.values())]),
    "Twilio.MONTH": _alternation(_MONTH_WORDS),
    "Twilio.DAY_OF_WEEK": _WEEKDAY_ALT,
    "Twilio.CURRENCY": _alternation([*_CURRENCY_NAMES, *(c.lower() for c in CURRENCY_CODES)]),
    "Twilio.LANGUAGE": _alternation([*_LANGUAGE_KEYS, *LANGUAGES]),
}
_BUILTIN_SLOTS["Twilio.COUNTRY_ISO_ALPHA2"] = _BUILTIN_SLOTS["Twilio.COUNTRY"]
_BUILTIN_SLOTS["Twilio.COUNTRY_ISO_ALPHA3"] = _BUILTIN_SLOTS["Twilio.COUNTRY"]
assert set(_BUILTIN_SLOTS) == BUILTIN_FIELD_TYPES

# Built-in types whose values stand out inside a sentence; the router looks for them in utterances.
# Names (any word) and lenient cities would match almost anything, so they only fill tags of samples.
DISTINCTIVE_BUILTINS = frozenset(BUILTIN_FIELD_TYPES - {"Twilio.FIRST_NAME", "Twilio.LAST_NAME"})


# --------------------------------------------------------------------------------------------------
# The resolver
# --------------------------------------------------------------------------------------------------

class _CustomType:
    """A custom type prepared for matching: normalised value/synonym → canonical value."""

    def __init__(self, field_type: FieldType) -> None:
        canonical_rows = {v.value.lower(): v.value for v in field_type.values if not v.synonym_of}
        self.lookup: dict[str, str] = {}
        for v in field_type.values:
            # A synonym resolves to the canonical row as the export spells it (case-insensitive match).
            target = canonical_rows.get(v.synonym_of.lower(), v.synonym_of) if v.synonym_of else v.value
            key = normalize(v.value)
            if key and key not in self.lookup:
                self.lookup[key] = target
        self.pattern = _alternation(self.lookup)
        self.at = re.compile(self.pattern + r"(?!\w)")


class FieldResolver:
    """Reads text as values of built-in and custom field types (see the module docstring for the rules)."""

    def __init__(self, assistant: Assistant, clock: Clock) -> None:
        self.assistant = assistant
        self.clock = clock
        self._custom: dict[str, _CustomType] = {
            ft.unique_name: _CustomType(ft) for ft in assistant.field_types
        }
        self._parsers: dict[str, Callable[[str], str | None]] = {
            "Twilio.YES_NO": _yes_no,
            "Twilio.NUMBER": _number,
            "Twilio.NUMBER_SEQUENCE": _number_sequence,
            "Twilio.ALPHANUMERIC": _alphanumeric,
            "Twilio.PHONE_NUMBER": _phone_number,
            "Twilio.DATE": self._date,
            "Twilio.TIME": _time,
            "Twilio.FIRST_NAME": lambda text: _name(text, first=True),
            "Twilio.LAST_NAME": lambda text: _name(text, first=False),
            "Twilio.EMAIL": _email,
            "Twilio.CITY": _city,
            "Twilio.US_STATE": _us_state,
            "Twilio.COUNTRY": lambda text: _country(text, "name"),
            "Twilio.COUNTRY_ISO_ALPHA2": lambda text: _country(text, "alpha2"),
            "Twilio.COUNTRY_ISO_ALPHA3": lambda text: _country(text, "alpha3"),
            "Twilio.MONTH": _month,
            "Twilio.DAY_OF_WEEK": _day_of_week,
            "Twilio.CURRENCY": _currency,
            "Twilio.LANGUAGE": _language,
        }

    # -- type names -------------------------------------------------------------------------------

    def type_key(self, field_type: str) -> str:
        """The type's canonical name: a custom type's unique name or a built-in name (SIDs and `Twilio.Number`
        spellings accepted). Raises EngineError for an unknown type."""
        if field_type in self._custom:
            return field_type
        builtin = builtin_name(field_type, ignore_case=True)
        if builtin is not None:
            return builtin
        custom = ", ".join(sorted(self._custom)) or "none"
        raise EngineError(
            f"unknown field type {field_type!r} (Twilio error 90104)",
            self.assistant.location(),
            hint=f"expected a built-in Twilio.* type or a custom type of {self.assistant.unique_name} "
                 f"(custom types: {custom})",
        )

    def is_custom(self, field_type: str) -> bool:
        return self.type_key(field_type) in self._custom

    # -- the three questions ----------------------------------------------------------------------

    def parse(self, field_type: str, text: str) -> str | None:
        """The answer `text` as a value of `field_type`, or None when it is not one."""
        key = self.type_key(field_type)
        custom = self._custom.get(key)
        if custom is not None:
            return _custom_value(custom, text)
        return self._parsers[key](text)

    def slot_pattern(self, field_type: str) -> str:
        """A regex fragment without capturing groups for a `{field}` tag, matched against `normalize(text)`.

        Custom types: their values and synonyms, longest first. Built-ins: a broad pattern whose matches are
        confirmed by `parse` (so a slot that looks right but reads as nothing does not match)."""
        key = self.type_key(field_type)
        custom = self._custom.get(key)
        return custom.pattern if custom is not None else _BUILTIN_SLOTS[key]

    def canonical(self, field_type: str, matched_text: str) -> str:
        """The value a slot resolves to; text the type cannot read is returned stripped, as matched."""
        value = self.parse(field_type, matched_text)
        return value if value is not None else matched_text.strip()

    def resolve_slot(self, field_type: str, matched_text: str) -> str | None:
        """Like `canonical`, but None when the matched text is not a value of the type (the router then
        rejects the match)."""
        return self.parse(field_type, matched_text)

    def find_values(self, field_type: str, normalized: str) -> list[tuple[int, int, str]]:
        """Values of the type inside `normalize`d text: (start, end, canonical), the longest at each word
        start, in order of position. Used by the router to spot fields in free-form utterances."""
        key = self.type_key(field_type)
        custom = self._custom.get(key)
        found: list[tuple[int, int, str]] = []
        if custom is not None:
            for start in _word_starts(normalized):
                match = custom.at.match(normalized, start)
                if match and match.end() > start:
                    found.append((start, match.end(), custom.lookup[match.group(0)]))
            return found
        at = _builtin_at(key)
        for start in _word_starts(normalized):
            match = at.match(normalized, start)
            if match and match.end() > start:
                value = self.parse(key, match.group(0))
                if value is not None:
                    found.append((start, match.end(), value))
        return found

    # -- DATE needs the clock ---------------------------------------------------------------------

    def _date(self, text: str) -> str | None:
        found = parse_date(text, self.clock.now().date())
        return found.isoformat() if found else None


_WORD_START = re.compile(r"(?:^|(?<= ))\S")
_BUILTIN_AT: dict[str, re.Pattern[str]] = {}


def _word_starts(normalized: str) -> list[int]:
    return [m.start() for m in _WORD_START.finditer(normalized)]


def _builtin_at(key: str) -> re.Pattern[str]:
    if key not in _BUILTIN_AT:
        _BUILTIN_AT[key] = re.compile(_BUILTIN_SLOTS[key] + r"(?![\w])")
    return _BUILTIN_AT[key]


def _custom_value(custom: _CustomType, text: str) -> str | None:
    norm = normalize(text)
    if norm in custom.lookup:
        return custom.lookup[norm]
    best: tuple[int, int, str] | None = None  # (-length, start, value): longest, then leftmost
    for start in _word_starts(norm):
        match = custom.at.match(norm, start)
        if match and match.end() > start:
            candidate = (start - match.end(), start, custom.lookup[match.group(0)])
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


# --------------------------------------------------------------------------------------------------
# Built-in parsers (module functions: no state but the clock, which DATE takes as an argument)
# --------------------------------------------------------------------------------------------------

_YES_SET = {normalize(w) for w in YES_WORDS}
_NO_SET = {normalize(w) for w in NO_WORDS}


def _yes_no(text: str) -> str | None:
    norm = normalize(text)
    words = norm.split()
    if not words:
        return None
    # A phrase starting with a yes/no word; two-word phrases ("of course", "uh huh") checked first.
    for candidate in (" ".join(words[:2]), words[0]):
        if candidate in _YES_SET:
            return "Yes"
        if candidate in _NO_SET:
            return "No"
    return None


_DIGIT_NUMBER = re.compile(
    r"(?<![\w.,])(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:st|nd|rd|th)?(?![\w]|[.,]\d)"
)


def _format_decimal(sign: str, whole: str, fraction: str | None) -> str | None:
    try:
        value = Decimal(sign + whole.replace(",", "") + (fraction or ""))
    except InvalidOperation:
        return None
    text = format(value.normalize(), "f") if fraction else str(int(value))
    return "0" if text in ("-0", "") else text


def _number(text: str) -> str | None:
    low = _APOSTROPHES.sub("", text.lower())
    digit = _DIGIT_NUMBER.search(low)
    words = list(_WORD.finditer(low))
    tokens = [m.group(0) for m in words]
    for index, match in enumerate(words):
        if digit is not None and match.start() > digit.start():
            break
        read = read_number_words(tokens, index)
        if read is not None:
            return str(read[0])
    if digit is not None:
        return _format_decimal(digit.group(1), digit.group(2), digit.group(3))
    return None


_SEQUENCE_FILLERS = word_set(
    "my the number is its it code pin account card zip postal sequence digits digit please thanks "
    "thank you uh um er and"
)
_SEQUENCE_TOKEN = re.compile(r"\d+|[a-z]+|[^\s\da-z]")


def _digit_runs(text: str, *, fillers: frozenset[str] | None) -> list[str] | None:
    """Digits of the text in order, grouped into runs broken by other words.

    With `fillers`, any word that is neither a digit nor a filler makes the whole text unreadable (None);
    without, such words only break runs."""
    low = _APOSTROPHES.sub("", text.lower())
    runs: list[str] = []
    current: list[str] = []
    repeat = 1
    for token in _SEQUENCE_TOKEN.findall(low):
        if token.isdigit():
            current.append(token * repeat if repeat > 1 and len(token) == 1 else token)
            repeat = 1
        elif token in _SPOKEN_DIGITS:
            current.append(_SPOKEN_DIGITS[token] * repeat)
            repeat = 1
        elif token in ("double", "triple"):
            repeat = 2 if token == "double" else 3
        elif token in "+-.()/" or (fillers is not None and token in fillers):
            continue
        elif fillers is not None and not token.isalpha():
            continue  # stray punctuation
        elif fillers is not None:
            return None
        else:
            if current:
                runs.append("".join(current))
            current = []
            repeat = 1
    if current:
        runs.append("".join(current))
    return runs


def _number_sequence(text: str) -> str | None:
    runs = _digit_runs(text, fillers=_SEQUENCE_FILLERS)
    digits = "".join(runs or [])
    return digits or None


def _phone_number(text: str) -> str | None:
    for run in _digit_runs(text, fillers=None) or []:
        if 7 <= len(run) <= 15:
            return run
    return None


_ALNUM_TOKEN = re.compile(r"[a-z0-9]+")


def _alphanumeric(text: str) -> str | None:
    low = text.lower()
    tokens = list(_ALNUM_TOKEN.finditer(low))

    def usable(token: str) -> bool:
        has_digit = any(c.isdigit() for c in token)
        return has_digit or (len(token) <= 3 and token not in _COMMON_WORDS)

    index = 0
    while index < len(tokens):
        if not usable(tokens[index].group(0)):
            index += 1
            continue
        end = index + 1
        while (end < len(tokens) and usable(tokens[end].group(0))
               and re.fullmatch(r"[\s-]*", low[tokens[end - 1].end():tokens[end].start()])):
            end += 1
        run = [t.group(0) for t in tokens[index:end]]
        if any(any(c.isdigit() for c in t) for t in run):
            return "".join(run).upper()
        index = end
    return None


_NAME_LEADIN = re.compile(
    r"^\s*(?:(?:hi|hello|hey)\W+)?(?:my (?:first |last |full |sur)?name is|my surname is|the name is|"
    r"name['’]?s|name is|i am|i['’]?m|it is|it['’]?s|this is|call me|they call me)\s+",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_POLITE = frozenset({"please", "thanks", "thank", "you", "thx"})


def _name(text: str, *, first: bool) -> str | None:
    if _yes_no(text) is not None and len(normalize(text).split()) <= 2:
        return None
    rest = _NAME_LEADIN.sub("", text)
    words = [w for w in _NAME_WORD.findall(rest)]
    while words and words[-1].lower() in _POLITE:
        words.pop()
    if not words:
        return None
    word = words[0] if first else words[-1]
    return word[:1].upper() + word[1:]


_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_SPOKEN_CONNECTORS = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}


def _email(text: str) -> str | None:
    found = _EMAIL.search(text)
    if found:
        return found.group(0).lower().rstrip(".")
    words = normalize(text).split()
    if "at" not in words:
        return None
    at = len(words) - 1 - words[::-1].index("at")
    domain = words[at + 1:]
    if len(domain) < 3 or "dot" not in domain:
        return None
    # Domain: words joined by "dot"; stop at the first word that is neither a label nor a connector.
    host: list[str] = []
    expect_label = True
    for word in domain:
        if expect_label and word.isalnum():
            host.append(word)
        elif not expect_label and word == "dot":
            host.append(".")
        else:
            break
        expect_label = not expect_label
    if host and host[-1] == ".":
        host.pop()
    # Local part: walk left from "at" over word (connector word)* pairs.
    local: list[str] = []
    index = at - 1
    while index >= 0 and re.fullmatch(r"[\w.+-]+", words[index]):
        local.insert(0, words[index])
        if index - 1 >= 0 and words[index - 1] in _SPOKEN_CONNECTORS and index - 2 >= 0:
            local.insert(0, _SPOKEN_CONNECTORS[words[index - 1]])
            index -= 2
            continue
        break
    address = "".join(local) + "@" + "".join(host)
    return address if local and "." in "".join(host) else None


_PLACE_LEADIN = re.compile(
    r"^(?:i(?:m| am) (?:flying |going |traveling |travelling |leaving |driving )?(?:from|to|in)|"
    r"i live in|i(?:m| am) from|from|to|in|its|it is|the city of|city of|the state of|state of)\s+"
)


def _place_text(text: str) -> str:
    return _PLACE_LEADIN.sub("", normalize(text))


def _longest_key(norm: str, keys: dict[str, str], pattern: re.Pattern[str]) -> str | None:
    """The value of the longest (then leftmost) key occurring as whole words in `norm`."""
    best: tuple[int, int, str] | None = None
    for start in _word_starts(norm):
        match = pattern.match(norm, start)
        if match and match.end() > start:
            candidate = (start - match.end(), start, keys[match.group(0)])
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


_CITY_AT = re.compile(_alternation(_CITY_KEYS) + r"(?!\w)")


def _city(text: str) -> str | None:
    rest = _place_text(text)
    if not rest:
        return None
    if rest in _CITY_KEYS:
        return _CITY_KEYS[rest]
    listed = _longest_key(rest, _CITY_KEYS, _CITY_AT)
    if listed:
        return listed
    # Lenient: Twilio generalised beyond listed values; we accept a short answer without digits.
    words = rest.split()
    if (1 <= len(words) <= 4 and not any(c.isdigit() for c in rest) and _yes_no(rest) is None
            and not all(w in _COMMON_WORDS for w in words)):
        return _title(rest)
    return None


_STATE_AT = re.compile(_alternation(_STATE_KEYS) + r"(?!\w)")
_CAPITAL_CODE = re.compile(r"\b[A-Z]{2,3}\b")


def _us_state(text: str) -> str | None:
    rest = _place_text(text)
    if rest.upper() in US_STATES:
        return US_STATES[rest.upper()]
    named = _longest_key(rest, _STATE_KEYS, _STATE_AT)
    if named:
        return named
    for code in _CAPITAL_CODE.findall(text):  # "I live in PA": codes inside a sentence only in capitals
        if code in US_STATES:
            return US_STATES[code]
    return None


_COUNTRY_AT = re.compile(_alternation(_COUNTRY_KEYS) + r"(?!\w)")


def _country_code(text: str) -> str | None:
    rest = _place_text(text)
    upper = rest.upper().replace(" ", "")
    if upper in COUNTRIES:
        return upper
    if upper in _ALPHA3_TO_ALPHA2:
        return _ALPHA3_TO_ALPHA2[upper]
    named = _longest_key(rest, _COUNTRY_KEYS, _COUNTRY_AT)
    if named:
        return named
    for code in _CAPITAL_CODE.findall(text):
        if code in COUNTRIES:
            return code
        if code in _ALPHA3_TO_ALPHA2:
            return _ALPHA3_TO_ALPHA2[code]
    return None


def _country(text: str, form: str) -> str | None:
    code = _country_code(text)
    if code is None:
        return None
    if form == "alpha2":
        return code
    alpha3, name = COUNTRIES[code]
    return alpha3 if form == "alpha3" else name


def _month(text: str) -> str | None:
    norm = normalize(text)
    if norm.isdigit() and 1 <= int(norm) <= 12:
        return MONTHS[int(norm) - 1]
    for word in norm.split():
        if word in _MONTH_WORDS:
            return MONTHS[_MONTH_WORDS[word] - 1]
    return None


def _day_of_week(text: str) -> str | None:
    for word in normalize(text).split():
        if word in _WEEKDAY_WORDS:
            return WEEKDAYS[_WEEKDAY_WORDS[word]]
    return None


_CURRENCY_AT = re.compile(_alternation(_CURRENCY_NAMES) + r"(?!\w)")


def _currency(text: str) -> str | None:
    norm = normalize(text)
    if norm.upper() in CURRENCY_CODES:
        return norm.upper()
    for symbol, code in _CURRENCY_SYMBOLS.items():
        if symbol in text:
            return code
    # A code inside a sentence: a whole 3-letter word, in capitals or not an English look-alike ("try").
    for token in re.findall(r"(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])", text):
        upper = token.upper()
        if upper in CURRENCY_CODES and (token.isupper() or token.lower() not in _CODE_LOOKALIKES):
            return upper
    return _longest_key(norm, _CURRENCY_NAMES, _CURRENCY_AT)


_LANGUAGE_AT = re.compile(_alternation(_LANGUAGE_KEYS) + r"(?!\w)")


def _language(text: str) -> str | None:
    norm = _PLACE_LEADIN.sub("", normalize(text))
    if norm in LANGUAGES:
        return LANGUAGES[norm]
    return _longest_key(norm, _LANGUAGE_KEYS, _LANGUAGE_AT)


# -- DATE ------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH_ALT})\s+(?:the\s+)?(\d{{1,2}})\b(?:\s+(\d{{4}})\b)?")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+(?:of\s+)?({_MONTH_ALT})\b(?:\s+(\d{{4}})\b)?")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_ALT})\s+(\d{{4}})\b")
_IN_PERIOD = re.compile(r"\bin\s+(\d+|a|an)\s+(day|week|month|year)s?\b")
_PERIOD_FROM_NOW = re.compile(r"\b(\d+|a|an)\s+(day|week|month|year)s?\s+from\s+(?:now|today)\b")
_WEEKDAY = re.compile(rf"\b(?:(next|this|coming|last|on)\s+)?({_WEEKDAY_ALT})\b")
_DAY_OF_MONTH = re.compile(r"\bthe\s+(\d{1,2})\b")
_ORDINAL_SUFFIX = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    """The first month/day strictly after today (Feb 29 waits for a leap year); None if never valid."""
    for year in range(today.year, today.year + 9):
        found = _safe_date(year, month, day)
        if found is not None and found > today:
            return found
    return None


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in range(start.day, 27, -1):  # clamp Jan 31 + 1 month to the end of February
        found = _safe_date(year, month, day)
        if found:
            return found
    return date(year, month, min(start.day, 28))


def _shift(today: date, amount: str, unit: str) -> date:
    count = 1 if amount in ("a", "an") else int(amount)
    if unit == "day":
        return today + timedelta(days=count)
    if unit == "week":
        return today + timedelta(weeks=count)
    return _add_months(today, count * (12 if unit == "year" else 1))


def _month_day(month_word: str, day: str, year: str | None, today: date) -> date | None:
    month = _MONTH_WORDS[month_word]
    if year:
        return _safe_date(_full_year(year), month, int(day))
    return _next_occurrence(month, int(day), today)


def parse_date(text: str, today: date) -> date | None:
    """A date in `text` (see the module docstring); yearless dates and weekdays are in the future."""
    s = _ORDINAL_SUFFIX.sub(r"\1", _digitize(normalize(text)))
    if m := _ISO_DATE.search(s):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _US_DATE.search(s):
        month, day = int(m.group(1)), int(m.group(2))
        if m.group(3):
            return _safe_date(_full_year(m.group(3)), month, day)
        return _next_occurrence(month, day, today) if _safe_date(2000, month, day) else None
    if m := _MONTH_DAY.search(s):
        return _month_day(m.group(1), m.group(2), m.group(3), today)
    if m := _DAY_MONTH.search(s):
        return _month_day(m.group(2), m.group(1), m.group(3), today)
    if m := _MONTH_YEAR.search(s):
        return date(int(m.group(2)), _MONTH_WORDS[m.group(1)], 1)
    if re.search(r"\bday after tomorrow\b", s):
        return today + timedelta(days=2)
    if re.search(r"\bday before yesterday\b", s):
        return today - timedelta(days=2)
    if re.search(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", s):
        return today
    if re.search(r"\btomorrow\b", s):
        return today + timedelta(days=1)
    if re.search(r"\byesterday\b", s):
        return today - timedelta(days=1)
    if m := (_IN_PERIOD.search(s) or _PERIOD_FROM_NOW.search(s)):
        return _shift(today, m.group(1), m.group(2))
    if re.search(r"\bnext week\b", s):
        return today + timedelta(weeks=1)
    if m := _WEEKDAY.search(s):
        wanted = _WEEKDAY_WORDS[m.group(2)]
        if m.group(1) == "last":
            return today - timedelta(days=(today.weekday() - wanted - 1) % 7 + 1)
        return today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    if m := _DAY_OF_MONTH.search(s):
        day = int(m.group(1))
        for months_ahead in range(0, 13):
            first = _add_months(today.replace(day=1), months_ahead)
            found = _safe_date(first.year, first.month, day)
            if found and found > today:
                return found
    return None


# -- TIME ------------------------------------------------------------------------------------------

_AMPM_TEXT = re.compile(r"\b([ap])\.?\s?m\b\.?")
_RELATIVE_TIME = re.compile(
    r"\b(half|quarter|\d{1,2})(?:\s+minutes?)?\s+(past|after|to|before|til|till)\s+(\d{1,2}|noon|midnight)\b")
_CLOCK_TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})\b(?:\s*([ap]m)\b)?")
_SPOKEN_TIME = re.compile(r"\b(\d{1,2})\s+([0-5]\d)\b(?:\s*([ap]m)\b)?")
_HOUR_AMPM = re.compile(r"\b(\d{1,2})\s*([ap]m)\b")
_MILITARY = re.compile(r"\b(\d{3,4})\b(?:\s*(hours|h)\b)?")
_BARE_HOUR = re.compile(r"\b(\d{1,2})\b(?:\s*oclock\b)?")
_PM_WORDS = re.compile(r"\b(?:in the (?:afternoon|evening)|at night|tonight|this (?:afternoon|evening))\b")
_AM_WORDS = re.compile(r"\b(?:in the morning|this morning)\b")


def _clock(hour: int, minute: int, marker: str | None, s: str) -> str | None:
    if marker:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if marker == "pm" else 0)
    elif _PM_WORDS.search(s) and hour < 12:
        hour += 12
    elif _AM_WORDS.search(s) and hour == 12:
        hour = 0
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def _time(text: str) -> str | None:
    s = _APOSTROPHES.sub("", text.lower())
    s = _AMPM_TEXT.sub(lambda m: m.group(1) + "m", s).replace("o clock", "oclock")
    s = _digitize(s)
    marker_match = re.search(r"\b([ap]m)\b", s)
    marker = marker_match.group(1) if marker_match else None
    if re.search(r"\b(?:noon|midday)\b", s) and not _RELATIVE_TIME.search(s):
        return "12:00"
    if re.search(r"\bmidnight\b", s) and not _RELATIVE_TIME.search(s):
        return "00:00"
    if m := _RELATIVE_TIME.search(s):
        amount = {"half": 30, "quarter": 15}.get(m.group(1))
        minutes = amount if amount is not None else int(m.group(1))
        target = {"noon": 12, "midnight": 0}.get(m.group(3))
        hour = target if target is not None else int(m.group(3))
        if m.group(2) in ("to", "before", "til", "till"):
            hour, minutes = (hour - 1) % 24, 60 - minutes
        if target is not None:
            return f"{hour:02d}:{minutes:02d}" if 0 <= minutes <= 59 else None
        return _clock(hour, minutes, marker, s)
    if m := _CLOCK_TIME.search(s):
        return _clock(int(m.group(1)), int(m.group(2)), m.group(3) or marker, s)
    if m := _SPOKEN_TIME.search(s):  # "four thirty pm" → "4 30 pm" (before "30 pm" reads as an hour)
        return _clock(int(m.group(1)), int(m.group(2)), m.group(3) or marker, s)
    if m := _HOUR_AMPM.search(s):
        return _clock(int(m.group(1)), 0, m.group(2), s)
    if m := _MILITARY.search(s):
        digits = m.group(1)
        return _clock(int(digits[:-2]), int(digits[-2:]), marker, s)
    if m := _BARE_HOUR.search(s):
        return _clock(int(m.group(1)), 0, marker, s)
    return None
