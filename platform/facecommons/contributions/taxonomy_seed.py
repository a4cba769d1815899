"""The initial taxonomy (v1). Used by the data migration; edit later versions in the admin."""

from __future__ import annotations

PNTS = ("prefer_not_to_say", "Prefer not to say")

# Monk Skin Tone scale swatches (Monk 2019, skintone.google).
MONK_SWATCHES = ["#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96",
                 "#a07e56", "#825c43", "#604134", "#3a312a", "#292420"]

# key, label, multiple, [(value key, label, extra)]
TAXONOMY_V1: list[tuple[str, str, bool, list[tuple[str, str, dict]]]] = [
    ("age_range", "Age range", False, [
        ("18_24", "18–24", {}), ("25_34", "25–34", {}), ("35_44", "35–44", {}),
        ("45_54", "45–54", {}), ("55_64", "55–64", {}), ("65_plus", "65+", {}),
        (*PNTS, {"exclusive": True}),
    ]),
    ("gender", "Gender", False, [
        ("woman", "Woman", {}), ("man", "Man", {}), ("non_binary", "Non-binary", {}),
        ("self_describe", "Self-describe", {"free_text": True}), (*PNTS, {"exclusive": True}),
    ]),
    ("ethnicity", "Ethnicity", True, [
        ("black", "Black", {}), ("east_asian", "East Asian", {}), ("southeast_asian", "Southeast Asian", {}),
        ("south_asian", "South Asian", {}), ("mena", "Middle Eastern or North African", {}),
        ("hispanic_latino", "Hispanic or Latino", {}), ("white", "White", {}), ("indigenous", "Indigenous", {}),
        ("pacific_islander", "Pacific Islander", {}), ("self_describe", "Self-describe", {"free_text": True}),
        (*PNTS, {"exclusive": True}),
    ]),
    ("skin_tone", "Skin tone (Monk scale)", False, [
        *[(str(i), f"Monk {i}", {"swatch": MONK_SWATCHES[i - 1]}) for i in range(1, 11)],
        (*PNTS, {"exclusive": True}),
    ]),
    ("accessories", "Accessories", True, [
        ("glasses", "Glasses", {}), ("head_covering", "Head covering", {}), ("facial_hair", "Facial hair", {}),
        ("makeup", "Visible makeup", {}), ("none", "None", {"exclusive": True}), (*PNTS, {"exclusive": True}),
    ]),
    ("lighting", "Lighting", False, [
        ("daylight_outdoors", "Daylight outdoors", {}), ("indoor", "Indoor", {}),
        ("low_light", "Low light", {}), ("night", "Night", {}),
    ]),
]


def seed_taxonomy(TaxonomyVersion, Category, CategoryValue, version: int = 1) -> None:  # noqa: N803
    tax = TaxonomyVersion.objects.create(version=version, is_current=True, note="Initial taxonomy")
    for c_order, (key, label, multiple, values) in enumerate(TAXONOMY_V1):
        cat = Category.objects.create(taxonomy=tax, key=key, label=label, multiple=multiple, order=c_order)
        for v_order, (vkey, vlabel, extra) in enumerate(values):
            CategoryValue.objects.create(category=cat, key=vkey, label=vlabel, order=v_order, **extra)
