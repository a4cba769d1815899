"""The contributor's web pages, through Django's test client (no browser)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from facecommons.accounts.models import ConsentAcceptance, ConsentVersion
from facecommons.common.storage import private_storage
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.contributions.services import contribution_transition
from tests.factories import CHECK_RIGHT, DEFAULT_CATEGORIES, make_contribution

pytestmark = pytest.mark.django_db

CATEGORY_POST = {
    "cat-age_range": "25_34", "cat-gender": "woman", "cat-ethnicity": ["black", "east_asian"], "cat-skin_tone": "8",
    "cat-accessories": ["glasses"], "cat-lighting": "indoor",
}


@pytest.fixture
def contributor(make_user):
    return make_user()


@pytest.fixture
def logged_in(client, contributor):
    client.force_login(contributor)
    return client


def test_home_explains_and_calls_to_action(client):
    html = client.get("/").content.decode()
    assert "consented face-image dataset" in html
    assert 'href="/accounts/signup/"' in html


def test_pages_need_login(client):
    for url in ("/upload/", "/my/photos/", "/consent/", "/account/", "/my/export/", "/my/withdraw/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next="), url


# --- consent --------------------------------------------------------------------------------

def test_upload_without_consent_redirects_to_consent_with_message(client, make_user):
    user = make_user(consent=False)
    client.force_login(user)
    r = client.get("/upload/", follow=True)
    # A first-time contributor is led on to the photo guidelines after consent.
    assert r.redirect_chain[0] == ("/consent/?next=/guidelines/%3Fonboarding%3D1", 302)
    html = r.content.decode()
    assert "please read and accept the current consent" in html
    assert "I am 18 or older" in html
    assert ConsentVersion.objects.get(version=1).text.splitlines()[0] in html


def test_accepting_consent_requires_adult_and_records_version(client, make_user):
    user = make_user(consent=False)
    client.force_login(user)
    r = client.post("/consent/", {"version": 1, "agree": "on", "next": "/upload/", **CHECK_RIGHT})
    assert r.status_code == 400
    assert "18 or older" in r.content.decode()
    assert not ConsentAcceptance.objects.filter(user=user).exists()
    r = client.post("/consent/", {"version": 1, "adult": "on", "agree": "on", "next": "/upload/"})
    assert r.status_code == 302 and r["Location"] == "/upload/"
    a = ConsentAcceptance.objects.get(user=user)
    assert a.version.version == 1 and a.adult_confirmed
    assert client.get("/upload/").status_code == 200


def test_consent_next_must_be_local(client, make_user):
    client.force_login(make_user(consent=False))
    r = client.post("/consent/", {"version": 1, "adult": "on", "agree": "on", "next": "https://evil.example/",
                                  **CHECK_RIGHT})
    assert r["Location"] == "/upload/"


def test_new_consent_version_must_be_accepted_again(client, contributor):
    from django.utils import timezone

    client.force_login(contributor)
    assert client.get("/upload/").status_code == 200
    ConsentVersion.objects.create(version=2, text="Version two of the consent.", published_at=timezone.now())
    r = client.get("/upload/")
    assert r.status_code == 302 and r["Location"].startswith("/consent/")
    html = client.get("/consent/").content.decode()
    assert "The consent text has changed" in html and "You accepted version 1" in html
    assert "Version two of the consent." in html
    # Accepting the stale version is refused with a message, not a 500.
    r = client.post("/consent/", {"version": 1, "adult": "on", "agree": "on"})
    assert r.status_code == 400 and "not the current consent" in r.content.decode()
    r = client.post("/consent/", {"version": 2, "adult": "on", "agree": "on"})
    assert r.status_code == 302
    assert client.get("/upload/").status_code == 200


def test_malformed_consent_post_is_a_400(client, make_user):
    client.force_login(make_user(consent=False))
    assert client.post("/consent/", {"version": "abc", "adult": "on", "agree": "on"}).status_code == 400


# --- upload page --------------------------------------------------------------------------

def test_upload_page_has_inputs_swatches_and_prefill(client, contributor):
    contributor.last_declared_categories = {"gender": "man", "ethnicity": ["white", "south_asian"], "skin_tone": "3"}
    contributor.save(update_fields=["last_declared_categories"])
    client.force_login(contributor)
    html = client.get("/upload/").content.decode()
    assert 'accept="image/jpeg,image/png,image/webp,image/heic,image/heif" multiple' in html
    assert 'capture="user"' in html
    assert html.count('class="swatch"') == 10
    assert "#292420" in html  # Monk 10
    assert 'name="cat-gender" value="man" checked' in html
    assert 'name="cat-ethnicity" value="white" checked' in html
    assert 'name="cat-ethnicity" value="south_asian" checked' in html
    assert 'name="cat-skin_tone" value="3" checked' in html
    assert 'name="cat-text__gender"' in html  # self-describe
    assert "/static/contributions/upload.js" in html


def test_upload_without_javascript_creates_contributions(logged_in, contributor, astronaut_jpeg, unique_face_jpeg):
    files = [SimpleUploadedFile("a.jpg", astronaut_jpeg, "image/jpeg"),
             SimpleUploadedFile("b.jpg", unique_face_jpeg(3), "image/jpeg")]
    r = logged_in.post("/upload/", {**CATEGORY_POST, "image": files})
    assert r.status_code == 302 and r["Location"] == "/my/photos/"
    assert Contribution.objects.filter(owner=contributor, status=ContributionStatus.RECEIVED).count() == 2
    contributor.refresh_from_db()
    assert contributor.last_declared_categories["ethnicity"] == ["black", "east_asian"]


def test_upload_without_javascript_reports_bad_files(logged_in, contributor):
    bad = SimpleUploadedFile("evil.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/jpeg")
    r = logged_in.post("/upload/", {**CATEGORY_POST, "image": [bad]}, follow=True)
    assert r.status_code == 400
    assert "evil.jpg:" in r.content.decode()
    assert not Contribution.objects.exists()


def test_upload_without_javascript_validates_categories(logged_in, astronaut_jpeg):
    post = {**CATEGORY_POST, "cat-gender": "self_describe", "cat-ethnicity": ["prefer_not_to_say", "white"],
            "image": [SimpleUploadedFile("a.jpg", astronaut_jpeg, "image/jpeg")]}
    r = logged_in.post("/upload/", post)
    assert r.status_code == 400
    html = r.content.decode()
    assert "describe in your own words" in html
    assert "cannot be combined" in html
    assert not Contribution.objects.exists()
    r = logged_in.post("/upload/", {**CATEGORY_POST, "cat-lighting": "<script>", "image": []})
    assert r.status_code == 400


# --- my photos ------------------------------------------------------------------------------

def test_my_photos_lists_only_own_with_badges_and_corrections(logged_in, contributor, make_user):
    mine = make_contribution(contributor, status="rejected", rejection_code="not_a_face",
                             rejection_message="We could not find a face in this photo.")
    corrected = make_contribution(contributor, status="approved", corrected_categories={"skin_tone": "6"})
    other = make_contribution(make_user())
    html = logged_in.get("/my/photos/").content.decode()
    assert str(mine.pk) in html and str(corrected.pk) in html and str(other.pk) not in html
    assert 'class="badge rejected"' in html and "We could not find a face in this photo." in html
    assert 'class="badge approved"' in html
    assert "declared Monk 8, corrected to <strong>Monk 6</strong>" in html
    assert f"/my/photos/{mine.pk}/image/?variant=original" in html  # no thumbnail yet: the original


def test_photos_status_json_updates(logged_in, contributor):
    c = make_contribution(contributor, status="received")
    body = logged_in.get("/my/photos/status/").json()
    assert body["photos"][0]["status"] == "received" and body["settled"] is False
    contribution_transition(contribution=c, to="processing")
    contribution_transition(contribution=c, to="awaiting_review")
    body = logged_in.get("/my/photos/status/").json()
    assert body["photos"] == [{
        "id": str(c.pk), "status": "awaiting_review", "status_label": "Awaiting review", "reason": "",
        "settled": False, "editable": True, "thumb_url": f"/my/photos/{c.pk}/image/?variant=original",
        "findings": [], "review_requested": False, "can_request_review": False,
        "review_request_url": f"/my/photos/{c.pk}/review-request/"}]
    contribution_transition(contribution=c, to="rejected", reason_code="blurry", message="The photo is too blurry.")
    body = logged_in.get("/my/photos/status/").json()
    assert body["settled"] is True
    assert body["photos"][0]["reason"] == "The photo is too blurry." and body["photos"][0]["editable"] is False


def test_detail_edit_categories_until_reviewed(logged_in, contributor):
    c = make_contribution(contributor, status="awaiting_review")
    r = logged_in.get(f"/my/photos/{c.pk}/")
    assert r.status_code == 200 and 'id="categories-form"' in r.content.decode()
    r = logged_in.post(f"/my/photos/{c.pk}/", {**CATEGORY_POST, "cat-gender": "self_describe",
                                                "cat-text__gender": "  two  spirit "})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.categories["gender"] == "self_describe" and c.categories_free_text == {"gender": "two spirit"}
    assert c.categories["ethnicity"] == ["black", "east_asian"]
    # Bad input is a 400 with the message, nothing saved.
    r = logged_in.post(f"/my/photos/{c.pk}/", {**CATEGORY_POST, "cat-age_range": "12_17"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    contribution_transition(contribution=c, to="approved")
    html = logged_in.get(f"/my/photos/{c.pk}/").content.decode()
    assert 'id="categories-form"' not in html and "can no longer be changed" in html
    logged_in.post(f"/my/photos/{c.pk}/", CATEGORY_POST)
    c.refresh_from_db()
    assert c.categories["gender"] == "self_describe"


def test_delete_photo_removes_files_and_needs_confirmation(logged_in, contributor, django_capture_on_commit_callbacks):
    c = make_contribution(contributor)
    keys = list(c.files.values_list("key", flat=True))
    assert keys and all(private_storage().exists(k) for k in keys)
    r = logged_in.post(f"/my/photos/{c.pk}/delete/", {})
    assert r.status_code == 302 and Contribution.objects.filter(pk=c.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post(f"/my/photos/{c.pk}/delete/", {"confirm": "yes"})
    assert r.status_code == 302 and r["Location"] == "/my/photos/"
    assert not Contribution.objects.filter(pk=c.pk).exists()
    assert not any(private_storage().exists(k) for k in keys)


def test_other_people_cannot_edit_or_delete(client, contributor, make_user):
    c = make_contribution(contributor)
    for user in (make_user(), make_user(role="researcher"), make_user(role="moderator")):
        client.force_login(user)
        assert client.post(f"/my/photos/{c.pk}/delete/", {"confirm": "yes"}).status_code == 404
        assert client.post(f"/my/photos/{c.pk}/", CATEGORY_POST).status_code == 404
    assert Contribution.objects.get(pk=c.pk).categories == DEFAULT_CATEGORIES


def test_unknown_or_malformed_photo_ids_are_404(logged_in):
    assert logged_in.get("/my/photos/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert logged_in.get("/my/photos/not-a-uuid/").status_code == 404


# --- account, export, withdraw --------------------------------------------------------------

def test_account_page_shows_roles_consents_and_token_once(logged_in, contributor):
    html = logged_in.get("/account/").content.decode()
    assert contributor.email in html and "Contributor" in html
    assert 'id="consent-history"' in html and "v1" in html
    assert 'href="/accounts/2fa/"' in html and 'href="/my/export/"' in html and 'href="/my/withdraw/"' in html
    r = logged_in.post("/account/", {"action": "create_token", "name": "laptop"})
    from facecommons.accounts.models import ApiToken

    token = ApiToken.objects.get(user=contributor)
    html = r.content.decode()
    key = html.split('id="new-token">')[1].split("<")[0]
    assert key.startswith(token.prefix) and "laptop" in html
    assert key not in logged_in.get("/account/").content.decode()  # shown once
    logged_in.post("/account/", {"action": "create_token"})
    assert ApiToken.objects.filter(user=contributor).count() == 2  # another token; the first still works
    logged_in.post("/account/", {"action": "revoke_token", "token": token.pk})
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert ApiToken.objects.filter(user=contributor).count() == 1


def test_export_downloads_zip(logged_in, contributor):
    c = make_contribution(contributor)
    assert logged_in.get("/my/export/").status_code == 200
    r = logged_in.post("/my/export/")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert "attachment" in r["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    data = json.loads(zf.read("data.json"))
    assert data["contributions"][0]["id"] == str(c.pk)
    assert f"photos/{c.pk}/original.jpg" in zf.namelist()


def test_withdraw_requires_phrase_then_deletes_and_logs_out(logged_in, contributor, django_capture_on_commit_callbacks):
    c = make_contribution(contributor)
    keys = list(c.files.values_list("key", flat=True))
    html = logged_in.get("/my/withdraw/").content.decode()
    assert "cannot be undone" in html and "DELETE MY DATA" in html
    r = logged_in.post("/my/withdraw/", {"confirm": "delete"})
    assert r.status_code == 400 and "nothing was deleted" in r.content.decode()
    assert Contribution.objects.filter(pk=c.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = logged_in.post("/my/withdraw/", {"confirm": " delete my data "})
    assert r.status_code == 302 and r["Location"] == "/"
    contributor.refresh_from_db()
    assert contributor.withdrawn_at is not None and not contributor.is_active
    assert not Contribution.objects.filter(owner=contributor).exists()
    assert not any(private_storage().exists(k) for k in keys)
    assert logged_in.get("/my/photos/").status_code == 302  # logged out


def test_allauth_pages_use_site_layout(client):
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        html = client.get(url).content.decode()
        assert 'class="site-header"' in html and "/static/css/site.css" in html, url
        assert 'name="viewport"' in html
    assert 'id="login-form"' in client.get("/accounts/login/").content.decode()


def test_mfa_pages_render_in_site_layout(client, contributor):
    client.force_login(contributor)
    r = client.get(reverse("mfa_index"))
    assert r.status_code == 200 and 'class="site-header"' in r.content.decode()


class _Inputs(__import__("html.parser").parser.HTMLParser):
    """Collects form controls, label[for] targets and controls nested inside labels."""

    def __init__(self):
        super().__init__()
        self.controls, self.label_for, self.in_label, self.labelled = [], set(), 0, set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)
            if self.in_label:
                self.labelled.add(id(a))

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


@pytest.mark.parametrize("url", ["/upload/", "/consent/", "/my/withdraw/", "/accounts/login/", "/accounts/signup/",
                                 "/photo"])
def test_every_form_control_has_a_label(client, make_user, url):
    user = make_user(consent=url != "/consent/")
    if url == "/photo":
        url = f"/my/photos/{make_contribution(user).pk}/"
    if not url.startswith("/accounts/"):
        client.force_login(user)
    parser = _Inputs()
    parser.feed(client.get(url).content.decode())
    assert parser.controls, url
    unlabelled = [c for c in parser.controls if id(c) not in parser.labelled and c.get("id") not in parser.label_for]
    assert not unlabelled, (url, unlabelled)


def test_consent_text_reflows_into_paragraphs_and_lists(client, make_user):
    from django.utils import timezone

    from facecommons.common.text import text_blocks as consent_blocks

    text = "First line\nwraps here.\n\nYou confirm that:\n- one\n  continued\n- two <b>\n\nEnd."
    assert consent_blocks(text) == [{"p": "First line wraps here."}, {"p": "You confirm that:"},
                                    {"bullets": ["one continued", "two <b>"]}, {"p": "End."}]
    ConsentVersion.objects.create(version=2, text=text, published_at=timezone.now())
    client.force_login(make_user(consent=False))
    html = client.get("/consent/").content.decode()
    text_html = html.split('id="consent-text">', 1)[1].split("</div>", 1)[0]
    assert "<p>First line wraps here.</p>" in text_html and "<li>two &lt;b&gt;</li>" in text_html, text_html
