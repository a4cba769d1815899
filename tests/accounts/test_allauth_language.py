"""django-allauth's own strings reach Hindi and Swahili readers in their language.

allauth ships no catalogue for hi or sw; our catalogues carry its msgids (listed in
facecommons.accounts.allauth_strings so that `make messages` keeps them). These tests go
through the pages, flash messages and e-mails as a person would, with Accept-Language only.
"""

from __future__ import annotations

import html
from pathlib import Path

import allauth
import polib
import pytest
from django.test import Client

from facecommons.accounts.allauth_strings import (
    ALLAUTH_MSGIDS,
    ALLAUTH_PLURALS,
    DJANGO_PASSWORD_MSGIDS,
    DJANGO_PASSWORD_PLURALS,
)
from tests.common.test_i18n import ROOT, SHIPPED, _locale_dir

# English allauth text -> what a Hindi and a Swahili reader sees instead (our catalogues).
BAD_LOGIN = "The email address and/or password you specified are not correct."
NOT_SAME = "You must type the same password each time."
SIGNED_IN = "Successfully signed in as"
RESET_SENT = "We have sent you an email. If you have not received it please check your spam folder."
CURRENT_PASSWORD = "Current Password"
NUMERIC_HELP = "Your password can’t be entirely numeric."  # Django's validator, on allauth's form
TRANSLATED = {
    "hi": {
        BAD_LOGIN: "आपका दिया ईमेल पता या पासवर्ड सही नहीं है।",
        NOT_SAME: "आपको दोनों बार एक ही पासवर्ड लिखना होगा।",
        SIGNED_IN: "के रूप में लॉग इन हो गए हैं।",
        RESET_SENT: "हमने आपको एक ईमेल भेजा है।",
        CURRENT_PASSWORD: "मौजूदा पासवर्ड",
        NUMERIC_HELP: "आपके पासवर्ड में सिर्फ़ अंक नहीं हो सकते।",
        "Password Reset Email": "पासवर्ड रीसेट ईमेल",
        "Account Already Exists": "खाता पहले से मौजूद है",
    },
    "sw": {
        BAD_LOGIN: "Barua pepe au nenosiri ulilotoa si sahihi.",
        NOT_SAME: "Lazima uandike nenosiri lilelile mara zote mbili.",
        SIGNED_IN: "Umeingia kama",
        RESET_SENT: "Tumekutumia barua pepe.",
        CURRENT_PASSWORD: "Nenosiri la sasa",
        NUMERIC_HELP: "Nenosiri lako lisiwe la namba tu.",
        "Password Reset Email": "Barua pepe ya kuweka upya nenosiri",
        "Account Already Exists": "Akaunti tayari ipo",
    },
}
LANGS = sorted(TRANSLATED)


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def reader():
    def _client(lang: str) -> Client:
        return Client(HTTP_ACCEPT_LANGUAGE=lang)

    return _client


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_login_error_and_sign_in_message(lang, reader, make_user, password):
    tr = TRANSLATED[lang]
    user = make_user(email=f"reader-{lang}@example.org")
    client = reader(lang)
    page = _text(client.post("/accounts/login/", {"login": user.email, "password": "not-the-password-1"}))
    assert BAD_LOGIN not in page and tr[BAD_LOGIN] in page

    page = _text(client.post("/accounts/login/", {"login": user.email, "password": password}, follow=True))
    assert "_auth_user_id" in client.session
    assert SIGNED_IN not in page and tr[SIGNED_IN] in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_signup_errors_and_the_account_exists_mail(lang, reader, make_user, mailoutbox):
    tr = TRANSLATED[lang]
    client = reader(lang)
    page = _text(client.post("/accounts/signup/", {"email": "someone@example.org",
                                                   "password1": "a-long-passphrase-one-1",
                                                   "password2": "a-long-passphrase-two-2"}))
    assert NOT_SAME not in page and tr[NOT_SAME] in page

    # Signing up again with a taken address (enumeration is prevented: a mail goes to the owner).
    taken = make_user(email=f"taken-{lang}@example.org")
    client.post("/accounts/signup/", {"email": taken.email, "password1": "a-long-passphrase-one-1",
                                      "password2": "a-long-passphrase-one-1"})
    assert len(mailoutbox) == 1
    assert "Account Already Exists" not in mailoutbox[0].subject
    assert tr["Account Already Exists"] in mailoutbox[0].subject
    assert "You are receiving this email because" not in mailoutbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_password_reset_page_and_mail(lang, reader, make_user, mailoutbox):
    tr = TRANSLATED[lang]
    user = make_user(email=f"forgetful-{lang}@example.org")
    client = reader(lang)
    assert client.get("/accounts/password/reset/").status_code == 200
    page = _text(client.post("/accounts/password/reset/", {"email": user.email}, follow=True))
    assert RESET_SENT not in page and tr[RESET_SENT] in page
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert "Password Reset Email" not in mail.subject and tr["Password Reset Email"] in mail.subject
    assert "You're receiving this email" not in mail.body and "Hello from" not in mail.body


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_password_change_page(lang, reader, make_user):
    tr = TRANSLATED[lang]
    client = reader(lang)
    client.force_login(make_user(email=f"changer-{lang}@example.org"))
    page = _text(client.get("/accounts/password/change/"))
    assert CURRENT_PASSWORD not in page and tr[CURRENT_PASSWORD] in page
    assert NUMERIC_HELP not in page and tr[NUMERIC_HELP] in page


def _allauth_catalogue() -> polib.POFile:
    return polib.pofile(str(Path(allauth.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"))


PLURALS = dict(ALLAUTH_PLURALS + DJANGO_PASSWORD_PLURALS)


def _listed() -> list[str]:
    return list(ALLAUTH_MSGIDS + DJANGO_PASSWORD_MSGIDS) + list(PLURALS)


def test_listed_msgids_are_allauths_own():
    """A msgid that differs from allauth's by one character is never looked up: after an
    allauth upgrade this names what changed."""
    entries = [e for e in _allauth_catalogue() if not e.obsolete]
    theirs = {e.msgid for e in entries if not e.msgid_plural}
    plurals = {(e.msgid, e.msgid_plural) for e in entries if e.msgid_plural}
    missing = [m for m in ALLAUTH_MSGIDS if m not in theirs]
    missing += [pair for pair in ALLAUTH_PLURALS if pair not in plurals]
    assert not missing, f"no longer allauth msgids (update allauth_strings.py): {missing}"


def test_listed_django_msgids_are_djangos_own():
    import django.contrib.auth.password_validation as validators

    source = Path(validators.__file__).read_text()
    strings = list(DJANGO_PASSWORD_MSGIDS) + [text for pair in DJANGO_PASSWORD_PLURALS for text in pair]
    missing = [m for m in strings if f'"{m}"' not in source]
    assert not missing, f"no longer Django's password validator msgids: {missing}"


@pytest.mark.parametrize("code", SHIPPED)
def test_every_listed_allauth_msgid_is_translated(code):
    po = polib.pofile(str(ROOT / "locale" / _locale_dir(code) / "LC_MESSAGES" / "django.po"))
    bad = []
    for msgid in _listed():
        entry = po.find(msgid)
        if entry is not None and msgid in PLURALS and entry.msgid_plural != PLURALS[msgid]:
            entry = None  # extracted without its plural: never looked up
        forms = [] if entry is None else (list(entry.msgstr_plural.values()) if entry.msgid_plural
                                          else [entry.msgstr])
        if entry is None or "fuzzy" in entry.flags or not forms or not all(f.strip() for f in forms):
            bad.append(msgid)
    assert not bad, f"{code}: allauth strings without a translation (run `make messages`): {bad[:10]}"


def test_mails_name_the_platform_not_example_com(make_user, client, settings):
    """The sites framework's row is the platform's after migrate: allauth's subjects say so."""
    from django.contrib.sites.models import Site
    from django.core import mail

    site = Site.objects.get(pk=settings.SITE_ID)
    assert site.name == settings.SITE_NAME and site.domain != "example.com"
    user = make_user()
    client.post("/accounts/password/reset/", {"email": user.email})
    assert mail.outbox and "example.com" not in mail.outbox[-1].subject + mail.outbox[-1].body
    assert settings.SITE_NAME in mail.outbox[-1].subject
