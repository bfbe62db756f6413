"""Drawing profiles: what advisors of each team kind know, what users of each
kind need, and the ages, children, weights, FTEs and names drawn from.
"""

from __future__ import annotations

# Advisors per team kind: competences everyone has, those municipal staff
# add, and optional ones with their odds for (municipal, state) staff.
ADVISOR_PROFILES: dict[
    str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, float, float], ...]]
] = {
    "assessment": (
        ("labour_market", "aap", "sickness_absence"),
        ("social_assistance",),
        (),
    ),
    "youth": (
        ("youth_guidance", "labour_market"),
        ("social_assistance",),
        (("qualification_programme", 0.5, 0.0), ("aap", 0.0, 0.4)),
    ),
    "family": (
        ("family_services",),
        ("social_assistance",),
        (
            ("labour_market", 0.5, 0.5),
            ("qualification_programme", 0.3, 0.0),
            ("aap", 0.0, 0.5),
        ),
    ),
    "recruitment": (
        ("labour_market",),
        (),
        (
            ("aap", 0.3, 0.3),
            ("sickness_absence", 0.3, 0.3),
            ("qualification_programme", 0.4, 0.0),
        ),
    ),
    "debt_counselling": (("debt_counselling", "social_assistance"), (), ()),
}
# Follow-up: two specialist areas; municipal staff hold social assistance
# plus one more.
STATE_SPECIALISMS = ["aap", "sickness_absence", "labour_market"]
MUNICIPAL_SECOND = (
    "qualification_programme",
    "labour_market",
    "aap",
    "introduction_programme",
)

# Needs a user of each kind typically has (weights for the main need). The
# key "new" is for users not yet assessed.
NEED_WEIGHTS: dict[str, dict[str, float]] = {
    "new": {
        "social_assistance": 3,
        "labour_market": 3,
        "aap": 2,
        "sickness_absence": 1,
    },
    "youth": {
        "youth_guidance": 5,
        "labour_market": 3,
        "social_assistance": 3,
        "qualification_programme": 1,
        "aap": 1,
    },
    "family": {
        "family_services": 5,
        "social_assistance": 3,
        "labour_market": 2,
        "aap": 1,
        "qualification_programme": 1,
    },
    "follow_up": {
        "aap": 3,
        "sickness_absence": 3,
        "social_assistance": 3,
        "labour_market": 2,
        "qualification_programme": 1,
        "introduction_programme": 1,
        "debt_counselling": 1,
    },
    "recruitment": {"labour_market": 3, "aap": 1, "sickness_absence": 1},
    "debt_counselling": {"debt_counselling": 1, "social_assistance": 1},
}
# Needs that define the kind: a user routed there always has them.
REQUIRED_NEEDS = {
    "recruitment": ("labour_market",),
    "debt_counselling": ("debt_counselling",),
}
# Youth have a long tail of young adults; the others span working life.
AGES = {
    "new": (18, 67, 32),
    "youth": (18, 29, 22),
    "family": (24, 58, 38),
    "follow_up": (20, 67, 46),
    "recruitment": (20, 62, 35),
    "debt_counselling": (20, 72, 42),
}
# Children in the household, as (values, cumulative percentages).
CHILDREN = {
    "new": ((0, 1, 2, 3), (60, 78, 92, 100)),
    "youth": ((0, 1, 2), (85, 95, 100)),
    "family": ((1, 2, 3, 4), (40, 75, 92, 100)),
    "follow_up": ((0, 1, 2, 3), (75, 87, 96, 100)),
    "recruitment": ((0, 1, 2), (80, 90, 100)),
    "debt_counselling": ((0, 1, 2, 3), (55, 75, 90, 100)),
}
# Caseload weight: most users 1, complex cases 1.5 or 2 (cumulative %).
USER_WEIGHTS = ((1.0, 1.5, 2.0), (80, 93, 100))
FTES = (0.5, 0.6, 0.7, 0.8)
LEADER_SHARES = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)

FIRST_NAMES = (
    "Anne", "Kari", "Ingrid", "Marit", "Siri", "Åse", "Sølvi", "Guro", "Hilde",
    "Randi", "Tone", "Ragnhild", "Ingeborg", "Mari", "Nora", "Live", "Kjersti",
    "Bjørg", "Astrid", "Solveig", "Sigrid", "Gunnhild", "Tiril", "Mette",
    "Ola", "Per", "Knut", "Håkon", "Øystein", "Bjørn", "Lars", "Jon", "Tor",
    "Sindre", "Eirik", "Kjetil", "Halvor", "Trond", "Geir", "Sverre", "Øyvind",
    "Ståle", "Jørgen", "Ivar", "Aslak", "Torbjørn", "Vegard", "Arne", "Ådne",
)  # fmt: skip
LAST_NAMES = (
    "Haugen", "Bakken", "Lien", "Moen", "Strand", "Berg", "Hagen", "Dahl",
    "Nygård", "Sæther", "Rønning", "Løkken", "Bråten", "Haugland", "Kvåle",
    "Sørli", "Åsheim", "Fjellheim", "Grøndahl", "Brekke", "Tveit", "Myhre",
    "Solberg", "Holm", "Vik", "Eide", "Rud", "Flaten", "Øverby", "Nærland",
    "Lund", "Ødegård", "Bøe", "Tangen", "Kleven", "Lyngstad", "Mørk", "Hovde",
)  # fmt: skip
NAME_STEMS = (
    "Bjør", "Fjell", "Gran", "Hov", "Kvit", "Lyng", "Mo", "Ny", "Rå", "Sand",
    "Skog", "Stor", "Tved", "Vang", "Øy", "Ås", "Bø", "Eid", "Foss", "Gjø",
    "Haug", "Li", "Løv", "Myr", "Ner", "Ro", "Sol", "Tøn", "Ul", "Vå", "Ær",
    "Berg", "Krok", "Lund", "Nord", "Sør", "Vest", "Aust", "Hval", "Elve",
)  # fmt: skip
NAME_ENDINGS = (
    "dal", "vik", "nes", "berg", "stad", "ås", "øy", "rud", "sund", "fjord",
    "heim", "land", "li", "bø", "mark", "seter", "bygd", "fjell", "haug",
    "strand", "voll", "sjø", "å", "ren", "hamar",
)  # fmt: skip
NAME_PREFIXES = ("Øvre", "Nedre", "Nordre", "Søndre", "Vestre", "Østre")
