"""contribution_create / categories_validate / contribution_update_categories / delete."""

from __future__ import annotations

import io
import os

import pytest
from django.core.exceptions import ValidationError

from facecommons.common.models import AuditEvent
from facecommons.common.storage import private_storage
from facecommons.contributions.events import contribution_received
from facecommons.contributions.models import Contribution, ContributionFile
from facecommons.contributions.selectors import taxonomy_current
from facecommons.contributions.services import (
    categories_validate,
    contribution_create,
    contribution_delete,
    contribution_transition,
    contribution_update_categories,
)
from facecommons.contributions.upload import UploadRejected
from tests.factories import DEFAULT_CATEGORIES, make_contribution

pytestmark = pytest.mark.django_db


def stored_files() -> list[str]:
    root = private_storage().location
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(out)


def create(owner, data: bytes, name: str = "me.jpg", ctype: str = "image/jpeg", **kw):
    return contribution_create(owner=owner, fileobj=io.BytesIO(data), filename=name, content_type=ctype,
                               categories=kw.pop("categories", dict(DEFAULT_CATEGORIES)), **kw)


# --- categories -------------------------------------------------------------------------

def test_categories_valid_and_cleaned():
    tax = taxonomy_current()
    clean, text = categories_validate(
        categories={**DEFAULT_CATEGORIES, "ethnicity": ["black", "white", "black"], "gender": "self_describe"},
        free_text={"gender": "  genderfluid   person ", "age_range": "ignored"}, taxonomy=tax)
    assert clean["ethnicity"] == ["black", "white"]
    assert clean["gender"] == "self_describe"
    assert text == {"gender": "genderfluid person"}


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"age_range": None}, "age_range", "Please choose a value"),
    ({"age_range": "17"}, "age_range", "unknown value"),
    ({"age_range": ["18_24", "25_34"]}, "age_range", "exactly one"),
    ({"ethnicity": ["black", "prefer_not_to_say"]}, "ethnicity", "cannot be combined"),
    ({"accessories": ["glasses", "none"]}, "accessories", "cannot be combined"),
    ({"ethnicity": [1, 2]}, "ethnicity", "list of value keys"),
    ({"gender": "self_describe"}, "gender", "describe in your own words"),
    ({"colour": "blue"}, "colour", "Unknown category"),
    ({"lighting": "prefer_not_to_say"}, "lighting", "unknown value"),
])
def test_categories_invalid(change, field, fragment):
    cats = {**DEFAULT_CATEGORIES, **change}
    cats = {k: v for k, v in cats.items() if v is not None}
    with pytest.raises(ValidationError) as exc:
        categories_validate(categories=cats, free_text=None, taxonomy=taxonomy_current())
    assert fragment in " ".join(exc.value.message_dict[field])


def test_free_text_too_long():
    with pytest.raises(ValidationError) as exc:
        categories_validate(categories={**DEFAULT_CATEGORIES, "gender": "self_describe"},
                            free_text={"gender": "x" * 101}, taxonomy=taxonomy_current())
    assert "at most 100" in exc.value.message_dict["gender"][0]


def test_not_required_category_may_be_omitted():
    tax = taxonomy_current()
    tax.categories.filter(key="accessories").update(required=False)
    cats = {k: v for k, v in DEFAULT_CATEGORIES.items() if k != "accessories"}
    clean, _ = categories_validate(categories=cats, free_text=None, taxonomy=taxonomy_current())
    assert "accessories" not in clean


def test_categories_must_be_object():
    with pytest.raises(ValidationError):
        categories_validate(categories=["age_range"], free_text=None, taxonomy=taxonomy_current())


# --- create -----------------------------------------------------------------------------

def test_create_stores_file_row_audit_and_emits_received(make_user, astronaut_jpeg, django_capture_on_commit_callbacks):
    user = make_user()
    received = []

    def on_received(*, contribution_id):
        received.append(contribution_id)

    contribution_received.connect(on_received)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            c = create(user, astronaut_jpeg)
    finally:
        contribution_received.disconnect(on_received)
    assert received == [str(c.pk)]
    c.refresh_from_db()
    assert c.status == "received"
    assert c.taxonomy.is_current
    assert len(c.phash) == 16
    assert (c.width, c.height) == (512, 512)
    key = f"originals/{c.sha256[:2]}/{c.sha256}.jpg"
    assert stored_files() == [key]
    f = c.files.get()
    assert (f.variant, f.key) == ("original", key)
    import hashlib

    with private_storage().open(key, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == c.sha256
    user.refresh_from_db()
    assert user.last_declared_categories == DEFAULT_CATEGORIES
    assert AuditEvent.objects.filter(action="uploaded", object_id=str(c.pk), actor=user).count() == 1


def test_create_requires_consent(make_user, astronaut_jpeg):
    user = make_user(consent=False)
    with pytest.raises(UploadRejected) as exc:
        create(user, astronaut_jpeg)
    assert exc.value.status == 403 and exc.value.code == "consent_required"
    assert stored_files() == [] and Contribution.objects.count() == 0


def test_new_consent_version_must_be_accepted_again(make_user, astronaut_jpeg):
    from django.utils import timezone

    from facecommons.accounts.models import ConsentVersion

    user = make_user()
    ConsentVersion.objects.create(version=2, text="v2", published_at=timezone.now())
    with pytest.raises(UploadRejected) as exc:
        create(user, astronaut_jpeg)
    assert exc.value.status == 403


def test_duplicate_refused_both_ways(make_user, astronaut_jpeg, astronaut_image):
    user, other = make_user(), make_user()
    c = create(user, astronaut_jpeg)
    before = stored_files()
    with pytest.raises(UploadRejected) as exc:  # same bytes again (same source sha)
        create(other, astronaut_jpeg)
    assert exc.value.status == 409 and "already been uploaded" in exc.value.message
    assert stored_files() == before
    # Same pixels in two lossless containers: different source bytes, same stored sha256.
    png, webp = io.BytesIO(), io.BytesIO()
    astronaut_image.save(png, "PNG")
    astronaut_image.save(webp, "WEBP", lossless=True)
    first = create(user, png.getvalue(), name="a.png", ctype="image/png")
    assert first.source_sha256 != c.source_sha256
    with pytest.raises(UploadRejected) as exc:
        create(other, webp.getvalue(), name="a.webp", ctype="image/webp")
    assert exc.value.status == 409
    assert len(stored_files()) == 2
    assert Contribution.objects.count() == 2


def test_daily_limit(make_user, unique_face_jpeg, settings):
    settings.UPLOADS_PER_DAY = 2
    user = make_user()
    create(user, unique_face_jpeg(1))
    create(user, unique_face_jpeg(2))
    with pytest.raises(UploadRejected) as exc:
        create(user, unique_face_jpeg(3))
    assert exc.value.status == 429 and "limit of 2" in exc.value.message
    # Deleting a photo does not give the quota back (it is counted from the audit log).
    contribution_delete(contribution=Contribution.objects.first(), actor=user)
    with pytest.raises(UploadRejected):
        create(user, unique_face_jpeg(4))


def test_invalid_categories_write_nothing(make_user, astronaut_jpeg):
    user = make_user()
    with pytest.raises(ValidationError):
        create(user, astronaut_jpeg, categories={"age_range": "25_34"})
    assert stored_files() == [] and Contribution.objects.count() == 0


def test_row_creation_failure_leaves_no_orphan_file(make_user, astronaut_jpeg, monkeypatch):
    user = make_user()
    real_create = ContributionFile.objects.create

    def boom(**kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ContributionFile.objects, "create", boom)
    with pytest.raises(RuntimeError):
        create(user, astronaut_jpeg)
    monkeypatch.setattr(ContributionFile.objects, "create", real_create)
    assert stored_files() == []
    assert Contribution.objects.count() == 0
    assert not AuditEvent.objects.filter(action="uploaded").exists()


def test_concurrent_duplicate_integrity_error_keeps_the_winners_file(make_user, astronaut_jpeg, monkeypatch):
    """The same photo committed by someone else between our duplicate check and our insert:
    the unique sha256 makes our insert fail; the answer is 409 and the shared file stays."""
    from facecommons.contributions import services

    user, other = make_user(), make_user()
    winner = {}
    real_filter = Contribution.objects.filter
    calls = {"n": 0}

    def racing_filter(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 1:  # the duplicate check: let the other upload win right now
            winner["c"] = contribution_create(owner=other, fileobj=io.BytesIO(astronaut_jpeg), filename="x.jpg",
                                              content_type="image/jpeg", categories=dict(DEFAULT_CATEGORIES))
            monkeypatch.setattr(Contribution.objects, "filter", real_filter)
            return real_filter(pk=None)  # "no duplicate"
        return real_filter(*args, **kw)

    monkeypatch.setattr(services.Contribution.objects, "filter", racing_filter)
    with pytest.raises(UploadRejected) as exc:
        create(user, astronaut_jpeg)
    assert exc.value.status == 409
    assert Contribution.objects.count() == 1
    assert stored_files() == [winner["c"].files.get().key]


# --- update categories ------------------------------------------------------------------

def test_update_categories_while_not_reviewed(make_user, astronaut_jpeg):
    user = make_user()
    c = create(user, astronaut_jpeg)
    contribution_update_categories(contribution=c, categories={**DEFAULT_CATEGORIES, "age_range": "35_44"},
                                   free_text=None, actor=user)
    c.refresh_from_db()
    assert c.categories["age_range"] == "35_44"
    assert AuditEvent.objects.filter(action="categories_updated", object_id=str(c.pk)).exists()


@pytest.mark.parametrize("status", ["approved", "rejected", "failed"])
def test_update_categories_refused_after_review(make_user, status):
    user = make_user()
    c = make_contribution(user, status=status)
    with pytest.raises(UploadRejected) as exc:
        contribution_update_categories(contribution=c, categories=dict(DEFAULT_CATEGORIES), free_text=None,
                                       actor=user)
    assert exc.value.status == 409 and "can no longer be changed" in exc.value.message


def test_update_categories_validates(make_user):
    user = make_user()
    c = make_contribution(user, status="awaiting_review")
    with pytest.raises(ValidationError):
        contribution_update_categories(contribution=c, categories={"age_range": "x"}, free_text=None, actor=user)


# --- delete -----------------------------------------------------------------------------

def test_delete_removes_every_variant_file(make_user, astronaut_jpeg, django_capture_on_commit_callbacks):
    from facecommons.common.storage import storage_save_bytes
    from tests.factories import jpeg_bytes

    user = make_user()
    c = create(user, astronaut_jpeg)
    for i, variant in enumerate(["thumbnail", "enhanced", "crop", "crop224"]):
        key = f"derived/{c.pk}/{variant}.jpg"
        storage_save_bytes(key, jpeg_bytes(seed=i))
        ContributionFile.objects.create(contribution=c, variant=variant, key=key, sha256="0" * 64)
    assert len(stored_files()) == 5
    contribution_transition(contribution=c, to="processing")
    with django_capture_on_commit_callbacks(execute=True):
        contribution_delete(contribution=c, actor=user)
    assert stored_files() == []
    assert not Contribution.objects.filter(pk=c.pk).exists()
