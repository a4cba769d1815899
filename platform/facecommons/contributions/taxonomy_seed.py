"""The initial taxonomy (v1). Used by the data migration; edit later versions in the admin."""

from __future__ import annotations

from django.utils.translation import gettext_noop as N_

PNTS = ("prefer_not_to_say", N_("Prefer not to say"))

# Monk Skin Tone scale swatches (Monk 2019, skintone.google).
MONK_SWATCHES = ["#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96",
                 "#a07e56", "#825c43", "#604134", "#3a312a", "#292420"]

# Spelled out so that each is a catalogue entry (labels are translated when shown).
MONK_LABELS = [N_("Monk 1"), N_("Monk 2"), N_("Monk 3"), N_("Monk 4"), N_("Monk 5"),
               N_("Monk 6"), N_("Monk 7"), N_("Monk 8"), N_("Monk 9"), N_("Monk 10")]

# key, label, multiple, [(value key, label, extra)]
TAXONOMY_V1: list[tuple[str, str, bool, list[tuple[str, str, dict]]]] = [
    ("age_range", N_("Age range"), False, [
        ("18_24", "18–24", {}), ("25_34", "25–34", {}), ("35_44", "35–44", {}),
        ("45_54", "45–54", {}), ("55_64", "55–64", {}), ("65_plus", "65+", {}),
        (*PNTS, {"exclusive": True}),
    ]),
    ("gender", N_("Gender"), False, [
        ("woman", N_("Woman"), {}), ("man", N_("Man"), {}), ("non_binary", N_("Non-binary"), {}),
        ("self_describe", N_("Self-describe"), {"free_text": True}), (*PNTS, {"exclusive": True}),
    ]),
    ("ethnicity", N_("Ethnicity"), True, [
        ("black", N_("Black"), {}), ("east_asian", N_("East Asian"), {}), ("southeast_asian", N_("Southeast Asian"), {}),
        ("south_asian", N_("South Asian"), {}), ("mena", N_("Middle Eastern or North African"), {}),
        ("hispanic_latino", N_("Hispanic or Latino"), {}), ("white", N_("White"), {}), ("indigenous", N_("Indigenous"), {}),
        ("pacific_islander", N_("Pacific Islander"), {}), ("self_describe", N_("Self-describe"), {"free_text": True}),
        (*PNTS, {"exclusive": True}),
    ]),
    ("skin_tone", N_("Skin tone (Monk scale)"), False, [
        *[(str(i), MONK_LABELS[i - 1], {"swatch": MONK_SWATCHES[i - 1]}) for i in range(1, 11)],
        (*PNTS, {"exclusive": True}),
    ]),
    ("accessories", N_("Accessories"), True, [
        ("glasses", N_("Glasses"), {}), ("head_covering", N_("Head covering"), {}), ("facial_hair", N_("Facial hair"), {}),
        ("makeup", N_("Visible makeup"), {}), ("none", N_("None"), {"exclusive": True}), (*PNTS, {"exclusive": True}),
    ]),
    ("lighting", N_("Lighting"), False, [
        ("daylight_outdoors", N_("Daylight outdoors"), {}), ("indoor", N_("Indoor"), {}),
        ("low_light", N_("Low light"), {}), ("night", N_("Night"), {}),
    ]),
]


def seed_taxonomy(TaxonomyVersion, Category, CategoryValue, version: int = 1) -> None:  # noqa: N803
    tax = TaxonomyVersion.objects.create(version=version, is_current=True, note="Initial taxonomy")
    for c_order, (key, label, multiple, values) in enumerate(TAXONOMY_V1):
        cat = Category.objects.create(taxonomy=tax, key=key, label=label, multiple=multiple, order=c_order)
        for v_order, (vkey, vlabel, extra) in enumerate(values):
            CategoryValue.objects.create(category=cat, key=vkey, label=vlabel, order=v_order, **extra)
