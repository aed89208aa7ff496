"""Hand-made name, street and wording lists for the synthetic firm (fictional people, real NYC places)."""

from __future__ import annotations


def _split(text: str, separator: str = " ") -> tuple[str, ...]:
    return tuple(text.split(separator))


FIRST = _split(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph"
    " Jessica Thomas Sarah Christopher Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Steven Ashley"
    " Andrew Kimberly Joshua Emily Kevin Donna Brian Michelle Ryan Carol Jacob Amanda Nicholas Melissa Tyler"
    " Deborah Aaron Rachel Samuel Hannah Adaeze Kwame Mei Arjun Leah Omar Yusuf Tamar Dmitri Ingrid"
)
LAST = _split(
    "Smith Johnson Williams Brown Jones Miller Davis Rodriguez Martinez Hernandez Lopez Wilson Anderson Thomas"
    " Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker"
    " Young Allen King Wright Scott Torres Hill Flores Green Adams Nelson Baker Rivera Campbell Mitchell Carter"
    " Roberts Goldberg Kowalski Okonkwo Friedman Rosenthal Castillo Nakamura Petrov Lindqvist"
)
MIDDLE = _split("A. B. C. D. E. J. K. L. M. R. S. T.")
PREFIXES = ("Mr.", "Ms.", "Mrs.", "Dr.", "")
# (first, last, prefix) of clients whose names exercise encodings, apostrophes and hyphens.
SPECIAL_PEOPLE = (
    ("Zoë", "Ångström", "Ms."),
    ("José", "Núñez", "Mr."),
    ("Thị Minh", "Nguyễn", "Ms."),
    ("Siobhán", "O'Connor", "Ms."),
    ("Björn", "Müller-Lüdenscheidt", "Mr."),
    ("Chloé", "Lefèvre-Dubois", "Ms."),
)
SPECIAL_COMPANIES = ("Østergaard Shipping ApS", "Société Lumière & Fils, S.à r.l.", "Café Olé Holdings, S.A.")
# The two different clients who share exactly the same name ("Garcia" is kept out of LAST on purpose).
TWIN_NAME = ("Maria", "Garcia")
COMPANIES = (
    "Brightline Logistics LLC",
    "Hudson Yards Bakery Inc.",
    "Gowanus Fabrication Co.",
    "Red Hook Marine Services LLC",
    "Astoria Dental Group PLLC",
    "Flatiron Analytics Inc.",
    "Canal Street Imports Corp.",
    "Bushwick Brewing Company LLC",
    "Tribeca Film Partners LP",
    "Morningside Property Management LLC",
    "Empire Signage & Print Inc.",
    "Staten Island Ferry Catering LLC",
)
EMPLOYERS = ("Metro Health Partners", "Citywide Transit Authority", "Northwind Traders", "Atlas Insurance Co.")
STREETS = _split(
    "Broadway|Lexington Avenue|Amsterdam Avenue|West 72nd Street|Atlantic Avenue|Court Street|Flatbush Avenue"
    "|Bedford Avenue|Steinway Street|Ditmars Boulevard|Grand Concourse|Arthur Avenue|Victory Boulevard"
    "|Hylan Boulevard|Madison Avenue|East 86th Street|Smith Street|Metropolitan Avenue",
    "|",
)
CITIES = (
    ("New York", "NY", "10023"),
    ("New York", "NY", "10011"),
    ("New York", "NY", "10128"),
    ("Brooklyn", "NY", "11201"),
    ("Brooklyn", "NY", "11211"),
    ("Brooklyn", "NY", "11215"),
    ("Astoria", "NY", "11103"),
    ("Bronx", "NY", "10458"),
    ("Staten Island", "NY", "10301"),
    ("Hoboken", "NJ", "07030"),
    ("Jersey City", "NJ", "07302"),
    ("Yonkers", "NY", "10701"),
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
# (practice area name, matter description templates)
MATTER_WORDING = {
    "Litigation": ("Breach of contract — {other}", "Commercial dispute with {other}", "Collection action v. {other}"),
    "Real Estate": ("Purchase of {street} property", "Commercial lease — {street}", "Refinance — {street}"),
    "Estate Planning": ("Will and trust package", "Estate of {last}", "Power of attorney and health proxy"),
    "Corporate": ("Formation and operating agreement", "Asset purchase from {other}", "General corporate"),
    "Family": ("Divorce — {last}", "Custody modification", "Prenuptial agreement"),
    "Employment": ("Wrongful termination claim", "Severance negotiation", "Wage and hour audit"),
}
SERVICES = (
    "Review and revise draft agreement",
    "Telephone conference with client",
    "Draft correspondence to opposing counsel",
    "Legal research re statute of limitations",
    "Prepare for and attend deposition",
    "Draft motion papers",
    "Review discovery responses",
    "Attend court conference",
    "Draft closing documents",
    "Title review and closing preparation",
    "Meeting with client re estate plan",
    "Prepare settlement memorandum",
    "E-mail exchange with client",
    "Revise operating agreement",
)
# (description, unit price, quantity choices)
EXPENSES = (
    ("Index number filing fee — NY Supreme Court", "210.00", ("1",)),
    ("Request for judicial intervention fee", "95.00", ("1",)),
    ("Courier — 60 Centre Street", "38.50", ("1", "2")),
    ("Deposition transcript", "412.75", ("1",)),
    ("Photocopies", "0.25", ("120", "312", "48")),
    ("Title search", "285.00", ("1",)),
    ("Process server", "125.00", ("1", "2")),
    ("Recording fee — City Register", "47.33", ("1",)),
)
