"""The initial taxonomy (v1). Used by the data migration; edit later versions in the admin."""

from __future__ import annotations

from django.utils.translation import gettext_noop

PNTS = ("prefer_not_to_say", gettext_noop("Prefer not to say"))

# Monk Skin Tone scale swatches (Monk 2019, skintone.google).
MONK_SWATCHES = ["#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96",
                 "#a07e56", "#825c43", "#604134", "#3a312a", "#292420"]

# Spelled out so that each is a catalogue entry (labels are translated when shown).
MONK_LABELS = [gettext_noop("Monk 1"), gettext_noop("Monk 2"), gettext_noop("Monk 3"), gettext_noop("Monk 4"), gettext_noop("Monk 5"),
               gettext_noop("Monk 6"), gettext_noop("Monk 7"), gettext_noop("Monk 8"), gettext_noop("Monk 9"), gettext_noop("Monk 10")]

# key, label, multiple, [(value key, label, extra)]
TAXONOMY_V1: list[tuple[str, str, bool, list[tuple[str, str, dict]]]] = [
    ("age_range", gettext_noop("Age range"), False, [
        ("18_24", "18–24", {}), ("25_34", "25–34", {}), ("35_44", "35–44", {}),
        ("45_54", "45–54", {}), ("55_64", "55–64", {}), ("65_plus", "65+", {}),
        (*PNTS, {"exclusive": True}),
    ]),
    ("gender", gettext_noop("Gender"), False, [
        ("woman", gettext_noop("Woman"), {}), ("man", gettext_noop("Man"), {}), ("non_binary", gettext_noop("Non-binary"), {}),
        ("self_describe", gettext_noop("Self-describe"), {"free_text": True}), (*PNTS, {"exclusive": True}),
    ]),
    ("ethnicity", gettext_noop("Ethnicity"), True, [
        ("black", gettext_noop("Black"), {}), ("east_asian", gettext_noop("East Asian"), {}), ("southeast_asian", gettext_noop("Southeast Asian"), {}),
        ("south_asian", gettext_noop("South Asian"), {}), ("mena", gettext_noop("Middle Eastern or North African"), {}),
        ("hispanic_latino", gettext_noop("Hispanic or Latino"), {}), ("white", gettext_noop("White"), {}), ("indigenous", gettext_noop("Indigenous"), {}),
        ("pacific_islander", gettext_noop("Pacific Islander"), {}), ("self_describe", gettext_noop("Self-describe"), {"free_text": True}),
        (*PNTS, {"exclusive": True}),
    ]),
    ("skin_tone", gettext_noop("Skin tone (Monk scale)"), False, [
        *[(str(i), MONK_LABELS[i - 1], {"swatch": MONK_SWATCHES[i - 1]}) for i in range(1, 11)],
        (*PNTS, {"exclusive": True}),
    ]),
    ("accessories", gettext_noop("Accessories"), True, [
        ("glasses", gettext_noop("Glasses"), {}), ("head_covering", gettext_noop("Head covering"), {}), ("facial_hair", gettext_noop("Facial hair"), {}),
        ("makeup", gettext_noop("Visible makeup"), {}), ("none", gettext_noop("None"), {"exclusive": True}), (*PNTS, {"exclusive": True}),
    ]),
    ("lighting", gettext_noop("Lighting"), False, [
        ("daylight_outdoors", gettext_noop("Daylight outdoors"), {}), ("indoor", gettext_noop("Indoor"), {}),
        ("low_light", gettext_noop("Low light"), {}), ("night", gettext_noop("Night"), {}),
    ]),
]


def seed_taxonomy(TaxonomyVersion, Category, CategoryValue, version: int = 1) -> None:  # noqa: N803
    tax = TaxonomyVersion.objects.create(version=version, is_current=True, note="Initial taxonomy")
    for c_order, (key, label, multiple, values) in enumerate(TAXONOMY_V1):
        cat = Category.objects.create(taxonomy=tax, key=key, label=label, multiple=multiple, order=c_order)
        for v_order, (vkey, vlabel, extra) in enumerate(values):
            CategoryValue.objects.create(category=cat, key=vkey, label=vlabel, order=v_order, **extra)
