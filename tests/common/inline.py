"""Finds what a strict Content-Security-Policy would refuse in HTML (or template) text.

Used on every file in templates/ and on every page the test suite renders, so a template
edited anywhere fails here before a browser silently drops the script or style.
"""

from __future__ import annotations

import re

TAG = re.compile(r"<(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
# Data blocks (json_script) are not executed, so a CSP does not refuse them.
DATA_TYPES = re.compile(r"""\btype\s*=\s*["']?application/(ld\+)?json""", re.I)
EVENT_ATTR = re.compile(r"""(?:^|\s)(on[a-z]+)\s*=""", re.I)
STYLE_ATTR = re.compile(r"""(?:^|\s)style\s*=""", re.I)
JS_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.I)


def inline_violations(text: str) -> list[str]:
    """Each inline script, <style>, style="" attribute, on*= handler or javascript: URL."""
    found: list[str] = []
    for m in TAG.finditer(text):
        name, attrs = m.group("name").lower(), m.group("attrs")
        snippet = m.group(0)[:120]
        if name == "script" and not re.search(r"\bsrc\s*=", attrs) and not DATA_TYPES.search(attrs):
            found.append(f"inline <script>: {snippet}")
        if name == "style":
            found.append(f"<style> element: {snippet}")
        if STYLE_ATTR.search(attrs):
            found.append(f"style attribute: {snippet}")
        handler = EVENT_ATTR.search(attrs)
        if handler:
            found.append(f"{handler.group(1)} handler: {snippet}")
        if JS_URL.search(attrs):
            found.append(f"javascript: URL: {snippet}")
    return found


ASSET_URL = re.compile(r"""<(?:script|link|img|source|iframe)\b[^>]*?\b(?:src|href|srcset)\s*=\s*["']([^"']+)["']""", re.I)


def external_assets(text: str) -> list[str]:
    """Scripts, styles, images and frames loaded from anywhere but the platform itself (a CDN).

    Looks at the addresses that load something, not at the whole text: a random CSRF token
    once contained "cdn" and failed a plain substring check."""
    return [url for url in ASSET_URL.findall(text)
            if url.startswith(("http://", "https://", "//")) or "cdn" in url.lower()]


def assert_strict_headers(response, where: str = "") -> None:
    """The CSP, Permissions-Policy and friends that every response (HTML or JSON) carries."""
    csp = response.get("Content-Security-Policy", "")
    assert csp, f"{where}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{where}: {csp}"
    if not response.get("Content-Type", "").startswith("image/"):
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
        assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'", csp
        assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", csp
    assert "camera=()" in response.get("Permissions-Policy", ""), f"{where}: no Permissions-Policy"
    assert response.get("X-Content-Type-Options") == "nosniff", where
    assert response.get("Referrer-Policy") == "same-origin", where
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert response.get("Cross-Origin-Resource-Policy") == "same-origin", where
    if response.status_code != 304:
        assert response.get("X-Frame-Options") == "DENY", where
