"""One abstract versioned-text model for consent texts and data-use agreements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from facecommons.accounts.models import ConsentVersion
from facecommons.common.models import AuditEvent, VersionedText
from facecommons.releases.models import DataUseAgreement

pytestmark = pytest.mark.django_db

MODELS = [ConsentVersion, DataUseAgreement]


def _fields(model) -> dict[str, str]:
    return {f.name: f.get_internal_type() for f in model._meta.concrete_fields if f.name != "id"}


@pytest.mark.parametrize("model", MODELS)
def test_both_texts_are_the_one_versioned_text(model):
    assert issubclass(model, VersionedText)
    shared = {"version": "PositiveIntegerField", "title": "CharField", "text": "TextField",
              "published_at": "DateTimeField", "created_at": "DateTimeField"}
    assert {name: kind for name, kind in _fields(model).items() if name in shared} == shared
    # The seeded first version survived the change of base class, with its text.
    first = model.objects.get(version=1)
    assert first.published_at is not None and len(first.text) > 200


@pytest.mark.parametrize("model", MODELS)
def test_current_is_the_latest_published_version(model):
    assert model.current().version == 1
    model.objects.create(version=2, title="t", text="draft")
    assert model.current().version == 1  # a draft is not current
    model.objects.create(version=3, title="t", text="later", published_at=timezone.now() + timedelta(days=1))
    assert model.current().version == 1  # nor a version published in the future
    model.objects.filter(version=2).update(published_at=timezone.now())
    assert model.current().version == 2


@pytest.mark.parametrize(("model", "action"), [(ConsentVersion, "consent_published"),
                                               (DataUseAgreement, "agreement_published")])
def test_admin_publishes_drafts_and_freezes_published_versions(client, make_user, model, action):
    client.force_login(make_user(role="admin"))
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    draft = model.objects.create(version=2, title="Second", text="Second text")
    r = client.post(reverse(f"{name}_changelist"), {"action": "publish", "_selected_action": [draft.pk]})
    assert r.status_code == 302
    assert model.current().pk == draft.pk
    assert AuditEvent.objects.filter(action=action, object_id=str(draft.pk)).exists()
    # Published: what people accepted cannot be edited or deleted.
    client.post(reverse(f"{name}_change", args=[draft.pk]), {"version": 2, "title": "x", "text": "changed"})
    draft.refresh_from_db()
    assert draft.text == "Second text"
    assert client.post(reverse(f"{name}_delete", args=[draft.pk]), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=draft.pk).exists()
