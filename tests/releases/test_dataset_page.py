"""The dataset page of a version: composition, changes, snippets, citation, preview rules."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_dataset_page_for_everyone_and_preview_for_researchers(make_dataset, build, client, researcher):
    make_dataset(12)
    s1 = build()
    make_dataset(2, start=30)
    snap = build()
    resp = client.get(f"/datasets/{snap.version}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for anchor in ("composition", "changelog", "evaluation", "preview", "datasheet", "cite", "licence"):
        assert f'id="{anchor}"' in html
    assert snap.manifest_sha256 in html and f"Compared with version {s1.version}" in html
    assert 'datasets.load_dataset(&quot;imagefolder&quot;' in html and "facecommons_client sync" in html
    assert "@misc{facecommons_" in html and "cff-version: 1.2.0" in html
    assert 'data-category="gender"' in html and "<meter" in html
    # Small counts are suppressed, never shown.
    assert "fewer than 5" in html
    # No inline script or style: the page runs under a strict Content-Security-Policy.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and " style=" not in html and "<style" not in html
    # No rows or thumbnails for the public.
    assert 'id="preview-rows"' not in html and "/thumbnails/" not in html
    client.force_login(researcher)
    html = client.get(f"/datasets/{snap.version}/").content.decode()
    assert 'id="preview-rows"' in html
    thumb = re.search(r'src="(/datasets/[^"]+/thumbnails/[0-9a-f]{64}\.jpg)"', html).group(1)
    img = client.get(thumb)
    assert img.status_code == 200 and img["Content-Type"] == "image/jpeg" and img.content[:2] == b"\xff\xd8"
    from facecommons.releases.models import Download

    assert Download.objects.filter(user=researcher, kind="file", detail__startswith="thumbnail ").exists()
    client.logout()
    assert client.get(thumb).status_code in (302, 403)
    bib = client.get(f"/datasets/{snap.version}/citation.bib")
    assert bib.status_code == 200 and snap.version in bib.content.decode()
    assert client.get("/datasets/").url.endswith(f"/datasets/{snap.version}/")
    assert client.get("/datasets/1999.01.0/").status_code == 404
