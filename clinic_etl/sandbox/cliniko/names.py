"""Hand-made name and address lists for the synthetic practice (fictional people, real Sydney suburbs)."""

from __future__ import annotations


def _split(text: str, separator: str = " ") -> tuple[str, ...]:
    return tuple(text.split(separator))


FEMALE_FIRST = _split(
    "Olivia Charlotte Amelia Isla Mia Ava Grace Chloe Ruby Sophie Emily Harper Matilda Ella Zara Georgia"
    " Hannah Lucy Priya Aisha Mei Sienna Jessica Sarah Rebecca Kate Natalie Leah Fatima Yuki"
)
MALE_FIRST = _split(
    "Oliver Noah Jack William Leo Lucas Thomas Henry Charlie James Ethan Liam Samuel Max Harrison Daniel"
    " Ryan Arjun Omar Wei Hamish Connor Matthew Joshua Ben Nathan Patrick Kenji Mohammed Lachlan"
)
LAST = _split(
    "Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson Thompson Nguyen Thomas Walker"
    " Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts Green Hall Wood Jackson Clarke Patel"
    " Khan Singh Wang Li Murphy Campbell Mitchell Hughes Cooper Morris Baker Stewart Turner Phillips"
    " Edwards Collins Watson Fraser Tran"
)
# (title, first, last, sex) of patients whose names exercise encodings, apostrophes and hyphens.
SPECIAL_NAMES = (
    ("Ms", "Zoë", "Ångström", "Female"),
    ("Mr", "José", "Núñez", "Male"),
    ("Ms", "Thị Minh", "Nguyễn", "Female"),
    ("Ms", "Aroha", "Te Whāiti", "Female"),
    ("Ms", "Siobhán", "O'Connor", "Female"),
    ("Mr", "Björn", "Müller-Lüdenscheidt", "Male"),
    ("Mr", "Søren", "Kierkegård", "Male"),
    ("Ms", "Chloé", "Lefèvre-Dubois", "Female"),
)
# The two different patients who share exactly the same name ("Chen" is kept out of LAST on purpose).
TWIN_NAME = ("Emily", "Chen")
STREETS = _split(
    "Crown Street|Bourke Street|Oxford Street|Victoria Road|Church Street|George Street|Parramatta Road"
    "|King Street|Military Road|Pittwater Road|Darling Street|Glebe Point Road|Marion Street|Edgecliff Road"
    "|Anzac Parade|Belmore Road|Pacific Highway|Great North Road",
    "|",
)
SUBURBS = tuple(
    tuple(pair.split(":"))
    for pair in _split(
        "Surry Hills:2010|Darlinghurst:2010|Redfern:2016|Newtown:2042|Glebe:2037|Leichhardt:2040"
        "|Paddington:2021|Randwick:2031|Parramatta:2150|Westmead:2145|Harris Park:2150|Manly:2095"
        "|Dee Why:2099|Mosman:2088|Balmain:2041|Bondi:2026",
        "|",
    )
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com.au")
INSURERS = ("Medibank Private", "Bupa", "HCF", "nib", "HBF", "Australian Unity")
OCCUPATIONS = _split("Teacher|Nurse|Software developer|Retired|Student|Electrician|Accountant|Barista", "|") + (
    "Carpenter",
    "Office manager",
    "",
    "",
)
