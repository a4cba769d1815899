"""Every journey's pages on a laptop and on a 360 px phone, each in Spanish and in Arabic (right to left):
no page scrolls sideways, axe-core finds no serious or critical violation, and on the review
screen nothing covers the evidence.

axe-core comes inside the axe-playwright-python package (offline). Sessions are made by the
test (force_login) and handed to the browser as the session cookie, so that each journey
spends its time on the pages it checks rather than on the login form (tested elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, _watch
from tests.factories import make_contribution

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "es"}
PHONE = {"viewport": {"width": 360, "height": 780}, "locale": "ar", "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
# Both viewports in both a left-to-right and a right-to-left language.
SETUPS = {"desktop-es": DESKTOP, "phone-ar": PHONE, "desktop-ar": {**DESKTOP, "locale": "ar"},
          "phone-es": {**PHONE, "locale": "es"}}
SEVERE = {"serious", "critical"}


@pytest.fixture(params=list(SETUPS), ids=list(SETUPS))
def setup(request: Any) -> dict[str, Any]:
    return SETUPS[request.param]


@pytest.fixture
def open_as(browser: Any, live_server: Any, django_db_serialized_rollback: Any, transactional_db: Any,
            setup: dict[str, Any]) -> Iterator[Any]:
    """open_as(user or None) -> a page in this setup's viewport and language, logged in as user."""
    from django.test import Client

    contexts = []

    def _open(user: Any) -> Any:
        context = browser.new_context(**setup)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": live_server.url}])
        page = context.new_page()
        _watch(page)
        page.setup = setup
        return page

    yield _open
    for c in contexts:
        c.close()


def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def check_page(page: Any, url: str, axe: Any) -> list[str]:
    """Open url; return the problems found (overflow, axe serious/critical, JS errors)."""
    problems = []
    resp = page.goto(url)
    assert resp is not None and resp.status < 400, f"{url}: HTTP {resp.status if resp else '?'}"
    page.wait_for_load_state("load")
    lang = page.get_attribute("html", "lang")
    if lang != page.setup["locale"]:
        problems.append(f"{url}: page language {lang}, expected {page.setup['locale']}")
    if page.setup["locale"] == "ar" and page.get_attribute("html", "dir") != "rtl":
        problems.append(f"{url}: not right-to-left")
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if overflow[0] > overflow[1] + 1:
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                      || e.getBoundingClientRect().left < -1)
            .slice(0, 3).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)""")
        problems.append(f"{url}: scrolls sideways ({overflow[0]} > {overflow[1]} px): {wide}")
    results = axe.run(page)
    for v in results.response["violations"]:
        if v.get("impact") in SEVERE:
            targets = [n["target"] for n in v["nodes"][:3]]
            problems.append(f"{url}: axe {v['id']} ({v['impact']}): {targets}")
    problems += [f"{url}: JavaScript error {e}" for e in page.js_errors]
    page.js_errors.clear()
    return problems


def run_journey(page: Any, base: str, urls: list[str]) -> None:
    axe = _axe()
    problems: list[str] = []
    for url in urls:
        problems += check_page(page, base + url, axe)
    assert not problems, "\n".join(problems)


def test_visitor_journey(open_as, live_server) -> None:
    page = open_as(None)
    run_journey(page, live_server.url, ["/", "/accounts/signup/", "/accounts/login/", "/stats/", "/donate/",
                                        "/rewards/multipliers/", "/snapshots/", "/dashboard/"])


def test_contributor_journey(open_as, live_server, make_user) -> None:
    user = make_user()
    c = make_contribution(user, status="rejected", rejection_code="poor_quality",
                          rejection_message="The photo quality is too low (blur, darkness or size) to be useful.")
    make_contribution(user, status="awaiting_review")
    page = open_as(user)
    run_journey(page, live_server.url, ["/guidelines/?onboarding=1", "/upload/", "/my/photos/", f"/my/photos/{c.pk}/",
                                        "/rewards/", "/account/", "/consent/", "/my/export/", "/my/withdraw/"])


def test_moderator_journey_evidence_is_never_covered(open_as, live_server, make_user) -> None:
    from facecommons.moderation.models import ContributionFlag

    owner = make_user()
    first = make_contribution(owner)
    other = make_contribution(owner, status="approved")
    ContributionFlag.objects.create(contribution=first, kind="near_duplicate", related_contribution=other, score=3,
                                    detail={"hamming": 3, "same_account": True})
    page = open_as(make_user(role="moderator"))
    run_journey(page, live_server.url, [f"/my/photos/{first.pk}/"])
    page.goto(f"{live_server.url}/moderation/")
    page.wait_for_function("() => document.getElementById('review').dataset.state === 'ready'")
    problems = check_page(page, f"{live_server.url}/moderation/", _axe())
    page.wait_for_function("() => document.getElementById('review').dataset.state === 'ready'")
    # Each piece of evidence, scrolled into view, is the topmost thing at its own centre: the
    # sticky action bar never lies over it (desktop and phone).
    for sel in ("#img-original", "#ev-categories", "#ev-analysis", "#ev-history", "#ev-flags"):
        page.locator(sel).scroll_into_view_if_needed()
        covered = page.evaluate("""(sel) => {
            const el = document.querySelector(sel); const r = el.getBoundingClientRect();
            const pts = [[r.left + r.width / 2, r.top + 2], [r.left + r.width / 2, r.bottom - 2]];
            return pts.some(([x, y]) => { const top = document.elementFromPoint(x, y);
              return top && !el.contains(top) && !top.contains(el) && top.closest('#review-actions'); });
        }""", sel)
        if covered:
            problems.append(f"/moderation/: the action bar covers {sel}")
    assert not problems, "\n".join(problems)
    # Zoom and pan: the photo and its overlay move together, inside the photo's frame.
    page.click(".zoom-controls [data-zoom=in]")
    page.click(".zoom-controls [data-zoom=in]")
    assert page.get_attribute("#review", "data-zoom") == "2.25"
    aligned = page.evaluate("""() => { const a = document.getElementById('img-original').getBoundingClientRect();
        const b = document.getElementById('overlay-original').getBoundingClientRect();
        const f = document.getElementById('wrap-original').getBoundingClientRect();
        return [Math.abs(a.left - b.left) < 1 && Math.abs(a.width - b.width) < 1, a.width / f.width]; }""")
    assert aligned[0] and aligned[1] == pytest.approx(2.25, rel=0.02), aligned
    page.click(".zoom-controls [data-zoom=fit]")
    assert page.get_attribute("#review", "data-zoom") == "1.00"
    # The reject and correct panels open beside or below the photo, never over it.
    for action, panel in (("reject", "#reject-panel"), ("correct", "#correct-panel")):
        page.click(f"#review-actions [data-action={action}]")
        overlap = page.evaluate("""(sel) => { const a = document.getElementById('wrap-original').getBoundingClientRect();
            const b = document.querySelector(sel).getBoundingClientRect();
            return Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
                 * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)); }""", panel)
        assert overlap == 0, f"{panel} covers {overlap:.0f} px² of the photo"
        page.keyboard.press("Escape")
    # Skin-tone correction with the ten Monk swatches (touch or click), then approve.
    page.click("#review-actions [data-action=correct]")
    assert page.locator(".swatch-fix .swatch-option svg").count() == 10
    page.locator(".swatch-fix label").filter(has=page.locator("input[value='3']")).click()
    page.click("#correct-panel button[type=submit]")
    page.wait_for_function("() => document.getElementById('review').dataset.decisions === '1'")
    from facecommons.moderation.models import Review

    assert Review.objects.get(contribution=first).corrected_categories == {"skin_tone": "3"}


def test_researcher_journey(open_as, live_server, make_user) -> None:
    page = open_as(make_user(role="researcher"))
    run_journey(page, live_server.url, ["/research/", "/snapshots/", "/stats/", "/dashboard/"])


def test_admin_journey(open_as, live_server, make_user) -> None:
    from facecommons.moderation.models import Escalation

    owner = make_user()
    Escalation.objects.create(contribution=make_contribution(owner), reason="disagreement")
    # The workbench: a published snapshot, a run on it as it is and a skewed one, their comparison.
    from facecommons.workbench import services as workbench
    from facecommons.workbench.training import training_run_execute
    from tests.workbench.conftest import store_synthetic

    snap = store_synthetic()
    runs = []
    for policy in ({}, {"kind": "skewed", "category": "gender", "values": ["man"]}):
        run = workbench.training_run_create(snapshot_version=snap.version, task="face-vs-background", policy=policy,
                                            epochs=1)
        assert workbench.training_run_claim(run_id=run.pk)
        done = training_run_execute(run_id=run.pk)
        assert done.status == "done", done.error
        runs.append(done.pk)
    page = open_as(make_user(role="admin"))
    run_journey(page, live_server.url, ["/moderation/escalations/", "/moderation/agreement/", "/moderation/audit/",
                                        "/snapshots/", "/account/", "/dashboard/", "/workbench/",
                                        f"/workbench/runs/{runs[0]}/", f"/workbench/compare/?runs={runs[0]},{runs[1]}"])
