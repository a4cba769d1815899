"""Every shipped language has complete, compiled catalogues, and the pages use them.

Placeholders and markup survive translation; pages follow Accept-Language and the language
switcher; the page scripts get their strings from the JavaScript catalog.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [code for code, _ in settings.LANGUAGES if code != "en"]
DOMAINS = ("django", "djangojs")


def _locale_dir(code: str) -> str:
    from django.utils.translation import to_locale

    return to_locale(code)


def _untranslated(po: polib.POFile) -> list[str]:
    bad = []
    for e in po:
        if e.obsolete:
            continue
        forms = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
        if "fuzzy" in e.flags or not forms or any(not f.strip() for f in forms):
            bad.append(e.msgid)
    return bad


def test_every_shipped_language_has_both_catalogues() -> None:
    for code in SHIPPED:
        for domain in DOMAINS:
            path = ROOT / "locale" / _locale_dir(code) / "LC_MESSAGES" / f"{domain}.po"
            assert path.is_file(), f"missing catalogue {path.relative_to(ROOT)}"


@pytest.mark.parametrize("code", SHIPPED)
def test_compiled_catalogues_match_the_sources(code: str) -> None:
    """The committed .mo files are what `make compilemessages` makes of the .po files."""
    for domain in DOMAINS:
        base = ROOT / "locale" / _locale_dir(code) / "LC_MESSAGES"
        po, mo = polib.pofile(str(base / f"{domain}.po")), polib.mofile(str(base / f"{domain}.mo"))
        want = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
                for e in po.translated_entries()}
        got = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo}
        assert got == want, f"{code}/{domain}.mo is stale: run `make compilemessages`"


def test_translations_keep_placeholders_and_markup() -> None:
    """A translation uses exactly the placeholders and HTML tags of its source."""
    placeholder = re.compile(r"%\([a-zA-Z_]+\)s|%%")
    tag = re.compile(r"</?[a-z]+")
    problems = []
    for code in SHIPPED:
        for domain in DOMAINS:
            for e in polib.pofile(str(ROOT / "locale" / _locale_dir(code) / "LC_MESSAGES" / f"{domain}.po")):
                sources = [e.msgid, e.msgid_plural] if e.msgid_plural else [e.msgid]
                forms = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
                want_ph = set(placeholder.findall(sources[-1])) | set(placeholder.findall(sources[0]))
                for f in forms:
                    if set(placeholder.findall(f)) - want_ph or sorted(tag.findall(f)) != sorted(tag.findall(e.msgid)):
                        problems.append((code, e.msgid[:60], f[:60]))
    assert not problems, problems[:10]


@pytest.mark.django_db
@pytest.mark.parametrize("code", SHIPPED)
def test_pages_follow_accept_language(client, code: str) -> None:
    from django.utils import translation

    resp = client.get("/", HTTP_ACCEPT_LANGUAGE=code)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in html
    with translation.override(code):
        take_part = translation.gettext("Take part")
    assert take_part != "Take part" and take_part in html
    assert "Take part<" not in html


@pytest.mark.django_db
def test_language_switcher_sets_the_language(client) -> None:
    resp = client.post("/i18n/setlang/", {"language": "ar", "next": "/accounts/login/"})
    assert resp.status_code == 302 and resp["Location"] == "/accounts/login/"
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'dir="rtl"' in html and "تسجيل الدخول" in html
    assert 'id="language-select"' in html and '<option value="ar" lang="ar" selected>' in html


@pytest.mark.django_db
def test_javascript_catalog_is_translated(client) -> None:
    # The page scripts' strings (djangojs domain) reach the browser in the visitor's language.
    body = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '"Ready to upload": "Lista para subir"' in body
    assert "Subiendo" in body


@pytest.mark.django_db
def test_javascript_catalog_is_cached_per_language(client, settings) -> None:
    """Built once per language and process, kept by browsers, and asked for with the page's
    language in its URL: a French visitor never gets the Spanish catalogue from a cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "jsi18n-test"}}
    from django.core.cache import cache

    cache.clear()
    es = client.get("/jsi18n/?l=es", HTTP_ACCEPT_LANGUAGE="es")
    assert "max-age=86400" in es["Cache-Control"] and es.has_header("Last-Modified")
    assert '"Ready to upload": "Lista para subir"' in es.content.decode()
    fr = client.get("/jsi18n/?l=fr", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Lista para subir" not in fr and '"Ready to upload": "' in fr
    assert client.get("/jsi18n/?l=es", HTTP_ACCEPT_LANGUAGE="es").content == es.content  # from the cache
    again = client.get("/jsi18n/?l=es", HTTP_ACCEPT_LANGUAGE="es", HTTP_IF_MODIFIED_SINCE=es["Last-Modified"])
    assert again.status_code == 304
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'src="/jsi18n/?l=fr"' in page
