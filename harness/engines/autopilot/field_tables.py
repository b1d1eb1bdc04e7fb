"""Our tables of places and locales: ISO 3166-1 countries, US states and territories, ISO 4217 currencies,
ISO 639-1 languages and cities, with the other ways people name them.

Kept here rather than taken from a package: the one installed maintained package with such data (babel,
CLDR) names them differently from the values the engine gives ("United States" for our "United States of
America", "Côte d’Ivoire" for "Cote d'Ivoire", "US Dollar" for a currency we give as "USD"), and has no
alpha-3 codes or spoken aliases; changing the values would change what bots receive."""

from __future__ import annotations

from harness.engines.autopilot.field_text import normalize, word_set

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
    _a2, _a3, parse_country = _entry.strip().split(" ", 2)
    COUNTRIES[_a2] = (_a3, parse_country)
ALPHA3_TO_ALPHA2 = {a3: a2 for a2, (a3, _) in COUNTRIES.items()}
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
COUNTRY_KEYS: dict[str, str] = {normalize(name): a2 for a2, (_, name) in COUNTRIES.items()}
COUNTRY_KEYS.update(_COUNTRY_ALIASES)

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
STATE_KEYS: dict[str, str] = {normalize(name): name for name in US_STATES.values()}
STATE_KEYS.update({"washington dc": "District of Columbia", "washington d c": "District of Columbia",
                    "d c": "District of Columbia", "virgin islands": "US Virgin Islands"})

# ISO 4217 codes people are likely to say, and names/symbols → code.
CURRENCY_CODES = word_set(
    "USD EUR GBP JPY CNY CAD AUD NZD CHF SEK NOK DKK ISK PLN CZK HUF RON BGN RSD RUB UAH TRY ILS "
    "AED SAR QAR KWD BHD OMR JOD EGP MAD DZD TND NGN GHS KES TZS UGX ETB ZAR XOF XAF INR PKR BDT "
    "LKR NPR IDR MYR SGD THB VND PHP KRW HKD TWD MXN BRL ARS CLP COP PEN UYU BOB PYG DOP CRC GTQ "
    "JMD TTD IRR IQD KZT"
)
CURRENCY_NAMES = {
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
CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB",
                     "₪": "ILS"}
CODE_LOOKALIKES = frozenset({"try", "all", "top", "cup", "mad", "pen", "bob", "cop", "dop"})

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
    _code, parse_language = _entry.split(" ", 1)
    LANGUAGES[_code] = parse_language
LANGUAGE_KEYS: dict[str, str] = {normalize(name): name for name in LANGUAGES.values()}
LANGUAGE_KEYS.update({
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
CITY_KEYS: dict[str, str] = {normalize(name): name for name in _CITY_TABLE.split("|")}
CITY_KEYS.update({"nyc": "NYC", "sf": "SF", "la": "LA", "dc": "DC", "jfk": "JFK", "sfo": "SFO",
                   "lax": "LAX", "philly": "Philly", "vegas": "Vegas", "saint louis": "Saint Louis"})
