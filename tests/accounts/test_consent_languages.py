"""Consent is informed in a language the person reads: translated texts per version, the
fallback note, the language recorded with each acceptance (web, API, export, admin), the
data-use agreement likewise, and the taxonomy's labels translated in the admin."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone, translation

from facecommons.accounts.models import ConsentAcceptance, ConsentTranslation, ConsentVersion
from facecommons.accounts.services import account_export_data, consent_accept, consent_current
from facecommons.common.errors import ServiceError
from facecommons.contributions.models import Category, CategoryValue, TaxonomyVersion
from facecommons.releases.models import AgreementAcceptance, AgreementTranslation, DataUseAgreement
from tests.factories import CHECK_RIGHT, make_contribution

pytestmark = pytest.mark.django_db

NOTE = "not yet available in your language"


def _v2(**translations: tuple[str, str]) -> ConsentVersion:
    """A new current version, in English and the given languages."""
    v2 = ConsentVersion.objects.create(version=2, title="Consent v2", text="We collect photos.\n\n- You may leave.",
                                       published_at=timezone.now())
    for language, (title, text) in translations.items():
        ConsentTranslation.objects.create(parent=v2, language=language.replace("_", "-"), title=title, text=text)
    return v2


def test_the_seeded_consent_is_translated_into_every_shipped_language():
    from django.conf import settings

    v1 = ConsentVersion.objects.get(version=1)
    assert v1.shown_languages() == {code for code, _ in settings.LANGUAGES}
    assert v1.localized("ar").title == "الموافقة على المشاركة"
    assert v1.localized("pt-br").language == "pt-br" and not v1.localized("pt-br").fallback


def test_page_shows_the_translation_and_the_acceptance_records_its_language(client, make_user):
    _v2(es=("Consentimiento v2", "Recogemos fotos.\n\n- Puede irse."))
    user = make_user(consent=False)
    client.force_login(user)
    html = client.get("/consent/", headers={"accept-language": "es"}).content.decode()
    assert "Recogemos fotos." in html and "We collect photos." not in html
    assert NOTE not in html and 'name="language" value="es"' in html
    r = client.post("/consent/", {"version": 2, "language": "es", "adult": "on", "agree": "on", **CHECK_RIGHT},
                    headers={"accept-language": "es"})
    assert r.status_code == 302
    acceptance = ConsentAcceptance.objects.get(user=user, version__version=2)
    assert acceptance.language == "es"
    assert account_export_data(user=user)["consents"][-1]["language"] == "es"
    # The account page lists it by the language's own name.
    html = client.get("/account/", headers={"accept-language": "es"}).content.decode()
    assert "español" in html.split('id="consent-history"')[1].split("</table>")[0]


def test_untranslated_text_falls_back_to_english_with_a_note_in_the_readers_language(client, make_user):
    _v2(es=("Consentimiento v2", "Recogemos fotos.\n\n- Puede irse."))
    user = make_user(consent=False)
    client.force_login(user)
    with translation.override("fr"):
        from django.utils.translation import gettext

        note_fr = gettext("This text is not yet available in your language. It is shown in English.")
    assert "English" not in note_fr  # the note itself is translated
    html = client.get("/consent/", headers={"accept-language": "fr"}).content.decode()
    assert "We collect photos." in html and note_fr in html
    assert 'name="language" value="en"' in html
    client.post("/consent/", {"version": 2, "language": "en", "adult": "on", "agree": "on", **CHECK_RIGHT})
    assert ConsentAcceptance.objects.get(user=user, version__version=2).language == "en"
    # English readers get no note.
    assert NOTE not in client.get("/consent/", headers={"accept-language": "en"}).content.decode()


def test_a_language_the_text_does_not_exist_in_cannot_be_accepted(make_user):
    _v2(es=("Consentimiento v2", "Recogemos fotos.\n\n- Puede irse."))
    user = make_user(consent=False)
    with pytest.raises(ServiceError):
        consent_accept(user=user, version=2, adult=True, language="sw")
    assert not ConsentAcceptance.objects.filter(user=user, version__version=2).exists()


def test_api_serves_the_readers_language_and_records_it(make_user, client_for):
    _v2(sw=("Idhini v2", "Tunakusanya picha.\n\n- Unaweza kuondoka."))
    user = make_user(consent=False)
    api = client_for(user)
    body = api.get("/api/v1/consent/", headers={"accept-language": "sw"}).json()
    assert body["text"].startswith("Tunakusanya") and body["language"] == "sw" and body["fallback"] is False
    assert api.get("/api/v1/consent/", headers={"accept-language": "hi"}).json()["fallback"] is True
    # A client that sends no language accepted what its GET showed (same Accept-Language).
    r = api.post("/api/v1/consent/", {"version": 2, "adult": True}, format="json", headers={"accept-language": "sw"})
    assert r.status_code == 201 and r.json()["language"] == "sw"
    assert ConsentAcceptance.objects.get(user=user, version__version=2).language == "sw"
    r = api.post("/api/v1/consent/", {"version": 2, "adult": True, "language": "hi"}, format="json")
    assert r.status_code == 400


def _admin(client, make_user):
    client.force_login(make_user(role="admin"))
    return client


def _inline_post(parent, rows: list[dict], **extra) -> dict:
    data = {"version": parent.version, "title": parent.title, "text": parent.text,
            "translations-TOTAL_FORMS": len(rows), "translations-INITIAL_FORMS": sum(1 for r in rows if "id" in r),
            "translations-MIN_NUM_FORMS": 0, "translations-MAX_NUM_FORMS": 1000, **extra}
    for i, row in enumerate(rows):
        data.update({f"translations-{i}-{k}": v for k, v in row.items()})
        data[f"translations-{i}-parent"] = parent.pk
    return data


def test_admin_adds_a_translation_to_a_published_version_then_it_is_frozen(client, make_user):
    admin = _admin(client, make_user)
    v2 = _v2()
    url = reverse("admin:accounts_consentversion_change", args=[v2.pk])
    assert 'id="translations-group"' in admin.get(url).content.decode()
    # The structure must match the original's (2 items), so the passages line up.
    r = admin.post(url, _inline_post(v2, [{"language": "fr", "title": "Consentement v2", "text": "Une seule ligne."}]))
    assert r.status_code == 200 and not ConsentTranslation.objects.filter(parent=v2).exists()
    r = admin.post(url, _inline_post(v2, [{"language": "fr", "title": "Consentement v2",
                                           "text": "Nous recueillons des photos.\n\n- Vous pouvez partir."}]))
    assert r.status_code == 302, r.content.decode()[:3000]
    t = ConsentTranslation.objects.get(parent=v2, language="fr")
    # Saved on a published version: people may have accepted it, so it no longer changes.
    admin.post(url, _inline_post(v2, [{"id": t.pk, "language": "fr", "title": "Autre", "text": "Autre.\n\n- Autre."}]))
    t.refresh_from_db()
    assert t.title == "Consentement v2"
    html = admin.get(url).content.decode()
    assert 'name="translations-0-title"' in html and "disabled" in html.split('name="translations-0-title"')[1][:200]


def test_admin_shows_the_language_of_each_acceptance(client, make_user):
    admin = _admin(client, make_user)
    user = make_user(consent=False)
    consent_accept(user=user, version=consent_current().version, adult=True, language="ar")
    html = admin.get(reverse("admin:accounts_consentacceptance_changelist")).content.decode()
    assert ">ar<" in html
    html = admin.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert ">ar<" in html


def test_data_use_agreement_is_read_and_accepted_in_the_readers_language(client, make_user):
    from facecommons.releases import services

    dua = DataUseAgreement.current()
    AgreementTranslation.objects.create(parent=dua, language="fr", title="Accord d'utilisation des données",
                                        text="1. Objet.\n\n2. Pas d'identification.")
    researcher = make_user()
    services.application_submit(user=researcher, name="R", institution="Uni", purpose="fairness research " * 3,
                                agreement_version=dua.version, agreement_language="fr")
    assert AgreementAcceptance.objects.get(user=researcher).language == "fr"
    client.force_login(researcher)
    html = client.get("/research/", headers={"accept-language": "fr"}).content.decode()
    assert "Pas d&#x27;identification." in html or "Pas d'identification." in html
    html = client.get("/research/", headers={"accept-language": "hi"}).content.decode()
    assert 'id="not-translated-note"' in html and 'data-language="en"' in html
    # The web form carries the language of the text shown on the page.
    web = make_user()
    client.force_login(web)
    html = client.get("/research/", headers={"accept-language": "fr"}).content.decode()
    assert 'name="agreement_language" value="fr"' in html
    client.post(reverse("research-apply"), {"name": "W", "institution": "Uni", "purpose": "fairness research " * 3,
                                            "agreement_version": dua.version, "agreement_language": "fr",
                                            "accept_agreement": "on"})
    assert AgreementAcceptance.objects.get(user=web).language == "fr"
    other = make_user()
    with pytest.raises(services.ReleaseError):
        services.agreement_accept(user=other, version=dua.version, language="sw")
    services.agreement_accept(user=other, version=dua.version, language="en")
    admin = _admin(client, make_user)
    html = admin.get(reverse("admin:releases_agreementacceptance_changelist")).content.decode()
    assert ">fr<" in html and ">en<" in html


def test_taxonomy_labels_translated_in_the_admin_even_when_the_version_is_in_use(client, make_user):
    admin = _admin(client, make_user)
    make_contribution(make_user())  # the current taxonomy is now frozen
    cat = TaxonomyVersion.objects.get(is_current=True).categories.get(key="gender")
    value = cat.values.get(key="woman")
    url = reverse("admin:contributions_categoryvalue_change", args=[value.pk])
    r = admin.post(url, {"label_sw": "Mwanamke (admin)", "label_fr": "", "label": "Changed"})
    assert r.status_code == 302, r.content.decode()[:3000]
    value.refresh_from_db()
    assert value.label == "Woman" and value.translations == {"sw": {"label": "Mwanamke (admin)"}}
    with translation.override("sw"):
        assert value.display_label == "Mwanamke (admin)"
    with translation.override("fr"):  # no admin translation: the interface catalogue's
        assert value.display_label == "Femme"
    with translation.override("en"):
        assert value.display_label == "Woman"
    r = admin.post(reverse("admin:contributions_category_change", args=[cat.pk]),
                   {"label_es": "Género (admin)", "help_text_es": "Cómo se describe", "values-TOTAL_FORMS": 0,
                    "values-INITIAL_FORMS": 0})
    cat.refresh_from_db()
    assert cat.translations == {"es": {"label": "Género (admin)", "help_text": "Cómo se describe"}}
    with translation.override("es"):
        assert cat.display_label == "Género (admin)" and cat.display_help_text == "Cómo se describe"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_keeps_existing_acceptances_and_records_them_as_english(make_user):
    """Back to before translations (accounts 0003, releases 0006) with acceptances in the
    tables, then forward again: no row lost, every earlier acceptance was of the English text."""
    user = make_user()
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0003_api_tokens"), ("releases", "0006_snapshot_resume_schedule")])
    old = executor.loader.project_state([("accounts", "0003_api_tokens")]).apps
    assert "language" not in {f.name for f in old.get_model("accounts", "ConsentAcceptance")._meta.get_fields()}
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    acceptance = ConsentAcceptance.objects.get(user=user)
    assert acceptance.language == "en" and acceptance.version.version == 1
    assert ConsentVersion.objects.get(version=1).translations.count() == 6
    assert json.dumps(account_export_data(user=user)["consents"][0]["language"]) == '"en"'
    assert CategoryValue.objects.exists() and Category.objects.filter(translations={}).exists()
