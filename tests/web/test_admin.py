"""Django admin of accounts and contributions: every page renders; the taxonomy rules hold."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from facecommons.accounts.models import ConsentAcceptance, ConsentVersion, User
from facecommons.accounts.services import consent_current
from facecommons.common.models import AuditEvent
from facecommons.common.storage import private_storage
from facecommons.contributions.models import Category, CategoryValue, Contribution, ContributionFile, TaxonomyVersion
from tests.factories import make_contribution

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(role="admin"))
    return client


def _url(model, view="changelist", *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_accounts_and_contributions_is_registered():
    for model in (User, ConsentVersion, ConsentAcceptance, TaxonomyVersion, Category, CategoryValue, Contribution,
                  ContributionFile):
        assert model in admin.site._registry, model


def test_changelists_and_change_pages_render(admin_client, make_user):
    owner = make_user()
    c = make_contribution(owner, corrected_categories={"skin_tone": "5"})
    tax = TaxonomyVersion.objects.get(is_current=True)
    cat = tax.categories.get(key="skin_tone")
    pages = [_url(m) for m in (User, ConsentVersion, ConsentAcceptance, TaxonomyVersion, Category, CategoryValue,
                               Contribution, ContributionFile)]
    pages += [_url(User, "change", owner.pk), _url(ConsentVersion, "change", consent_current().pk),
              _url(TaxonomyVersion, "change", tax.pk), _url(Category, "change", cat.pk),
              _url(CategoryValue, "change", cat.values.first().pk), _url(Contribution, "change", c.pk),
              _url(ContributionFile, "change", c.files.first().pk), _url(User, "add"), _url(ConsentVersion, "add"),
              _url(TaxonomyVersion, "add")]
    for url in pages:
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get(_url(Contribution) + "?status__exact=awaiting_review&q=" + c.sha256[:10]).status_code == 200
    html = admin_client.get(_url(Contribution, "change", c.pk)).content.decode()
    assert c.files.first().key in html  # the file key is shown, read-only
    assert 'name="sha256"' not in html


def test_user_admin_can_create_user_and_grant_roles(admin_client):
    r = admin_client.post(_url(User, "add"), {"email": "new@example.org", "password1": "a-long-passphrase-9",
                                              "password2": "a-long-passphrase-9", "usable_password": "true"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert User.objects.filter(email="new@example.org").exists()
    html = admin_client.get(_url(User)).content.decode()
    assert "new@example.org" in html


def test_consent_publish_action_makes_new_current_version(admin_client):
    draft = ConsentVersion.objects.create(version=2, text="Second text")
    assert consent_current().version == 1
    r = admin_client.post(_url(ConsentVersion), {"action": "publish", "_selected_action": [draft.pk]})
    assert r.status_code == 302
    assert consent_current().version == 2
    assert AuditEvent.objects.filter(action="consent_published", object_id=str(draft.pk)).exists()
    # A published text is read-only: a POST cannot change what people agreed to.
    admin_client.post(_url(ConsentVersion, "change", draft.pk), {"version": 2, "title": "x", "text": "changed"})
    draft.refresh_from_db()
    assert draft.text == "Second text"


def test_consent_acceptances_are_read_only(admin_client, make_user):
    user = make_user()
    a = ConsentAcceptance.objects.get(user=user)
    assert admin_client.get(_url(ConsentAcceptance, "change", a.pk)).status_code == 200
    assert admin_client.post(_url(ConsentAcceptance, "delete", a.pk), {"post": "yes"}).status_code == 403
    assert admin_client.get(_url(ConsentAcceptance, "add")).status_code == 403
    assert ConsentAcceptance.objects.filter(pk=a.pk).exists()


def test_clone_as_draft_deep_copies_and_make_current_switches(admin_client):
    v1 = TaxonomyVersion.objects.get(is_current=True)
    r = admin_client.post(_url(TaxonomyVersion), {"action": "clone_as_draft", "_selected_action": [v1.pk]})
    assert r.status_code == 302
    v2 = TaxonomyVersion.objects.get(version=v1.version + 1)
    assert not v2.is_current
    src = [(c.key, c.label, c.multiple, [(v.key, v.label, v.swatch, v.free_text, v.exclusive)
                                         for v in c.values.order_by("order")]) for c in v1.categories.order_by("order")]
    dst = [(c.key, c.label, c.multiple, [(v.key, v.label, v.swatch, v.free_text, v.exclusive)
                                         for v in c.values.order_by("order")]) for c in v2.categories.order_by("order")]
    assert src == dst and len(src) == 6
    assert not set(v1.categories.values_list("pk", flat=True)) & set(v2.categories.values_list("pk", flat=True))
    r = admin_client.post(_url(TaxonomyVersion), {"action": "make_current", "_selected_action": [v2.pk]})
    assert r.status_code == 302
    assert list(TaxonomyVersion.objects.filter(is_current=True).values_list("version", flat=True)) == [v2.version]
    assert AuditEvent.objects.filter(action="taxonomy_made_current").exists()


def test_make_current_needs_exactly_one_version(admin_client):
    v1 = TaxonomyVersion.objects.get(is_current=True)
    empty = TaxonomyVersion.objects.create(version=9)
    admin_client.post(_url(TaxonomyVersion), {"action": "make_current", "_selected_action": [v1.pk, empty.pk]})
    admin_client.post(_url(TaxonomyVersion), {"action": "make_current", "_selected_action": [empty.pk]})
    assert TaxonomyVersion.objects.get(is_current=True) == v1  # an empty version cannot become current


def test_taxonomy_in_use_is_frozen_in_admin(admin_client, make_user):
    v1 = TaxonomyVersion.objects.get(is_current=True)
    cat = v1.categories.get(key="gender")
    value = cat.values.get(key="woman")
    # Before any contribution the draft-like current version can still be edited.
    r = admin_client.get(_url(CategoryValue, "change", value.pk))
    assert 'name="label"' in r.content.decode()
    make_contribution(make_user())
    html = admin_client.get(_url(CategoryValue, "change", value.pk)).content.decode()
    assert 'name="label"' not in html  # read-only now
    admin_client.post(_url(CategoryValue, "change", value.pk),
                      {"category": cat.pk, "key": "woman", "label": "Changed", "order": 0})
    admin_client.post(_url(Category, "change", cat.pk), {"taxonomy": v1.pk, "key": "gender", "label": "Changed",
                                                         "order": 1})
    assert admin_client.post(_url(Category, "delete", cat.pk), {"post": "yes"}).status_code == 403
    value.refresh_from_db()
    cat.refresh_from_db()
    assert value.label == "Woman" and cat.label == "Gender"
    # New categories cannot be added to a version in use.
    r = admin_client.post(_url(Category, "add"), {"taxonomy": v1.pk, "key": "new", "label": "New", "order": 9,
                                                  "values-TOTAL_FORMS": 0, "values-INITIAL_FORMS": 0})
    assert r.status_code == 200 and not Category.objects.filter(key="new").exists()
    assert "Select a valid choice" in r.content.decode()


def test_admin_delete_of_contribution_removes_files(admin_client, make_user, django_capture_on_commit_callbacks):
    c = make_contribution(make_user())
    keys = list(c.files.values_list("key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(_url(Contribution, "delete", c.pk), {"post": "yes"})
    assert r.status_code == 302
    assert not Contribution.objects.filter(pk=c.pk).exists()
    assert not any(private_storage().exists(k) for k in keys)


def test_contribution_admin_cannot_edit_fields(admin_client, make_user):
    c = make_contribution(make_user(), status="awaiting_review")
    r = admin_client.post(_url(Contribution, "change", c.pk), {"status": "approved"})
    assert r.status_code == 403
    c.refresh_from_db()
    assert c.status == "awaiting_review"


def test_non_staff_cannot_use_admin(client, make_user):
    for role in ("contributor", "moderator", "researcher"):
        client.force_login(make_user(role=role))
        r = client.get("/admin/")
        assert r.status_code == 302 and "/admin/login/" in r["Location"], role
