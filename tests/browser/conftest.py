"""Shared fixtures for the browser tests: headless Chromium driven by Playwright.

Every browser test is marked ``@pytest.mark.browser`` and uses pytest-django's
``live_server`` (a real HTTP server in a thread, with a transactional test database).

Chromium is Debian's package at /usr/bin/chromium (``make browser-deps`` installs it); no
browser is downloaded at run time. Without it the browser tests are skipped with a message.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio event loop in the test's thread. Django refuses ORM
# calls from a thread with a running event loop (SynchronousOnlyOperation), although here
# they are ordinary synchronous calls made by the test between browser steps (creating a
# user, reading the mail outbox, checking rows). The live server itself runs in its own
# thread and is unaffected. This is a test-only relaxation; production never sets it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}


def _chromium_path() -> str | None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def _serialized_db_contents(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Keep the serialized test database where serialized rollback finds it under Playwright.

    Django stores the serialized database (for ``serialized_rollback``) as an attribute of
    the connection object, and connection objects live in context-local storage. Playwright's
    sync API runs the test in a greenlet with its own context, where ``connections["default"]``
    is a fresh object without that attribute, so the rows of the data migrations would not be
    restored after the first transactional test. Captured here, before Playwright starts, and
    put on the connection class so that every connection object of this session sees it.
    """
    from django.db import connections

    conn = connections["default"]
    contents = getattr(conn, "_test_serialized_contents", None)
    if contents is not None:
        type(conn)._test_serialized_contents = contents


@pytest.fixture(scope="session")
def browser(_serialized_db_contents: None) -> Iterator[Any]:
    """One headless Chromium for the whole session (starting it costs about a second)."""
    path = _chromium_path()
    if path is None:
        pytest.skip(f"Chromium not found at {CHROMIUM}: run `make browser-deps` (apt-get install chromium) "
                    "to run the browser tests.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements.txt
        pytest.skip("playwright is not installed: run `make install`.")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - a broken Chromium install: skip with the reason
        pw.stop()
        pytest.skip(f"Chromium at {path} could not be started: {exc}")
    try:
        yield b
    finally:
        b.close()
        pw.stop()


def _new_page(browser: Any, **context_kwargs: Any) -> tuple[Any, Any]:
    context = browser.new_context(**context_kwargs)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    return context, page


def _watch(page: Any) -> None:
    """Collect JavaScript errors in ``page.js_errors`` and HTTP errors (status >= 400, except
    the browser's own /favicon.ico probe) in ``page.bad_responses`` as (status, url)."""
    page.js_errors = []
    page.bad_responses = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on("response", lambda r: page.bad_responses.append((r.status, r.url))
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    # The browser's own audit: anything the CSP refused, or a header it could not parse.
    page.header_problems = []
    page.on("console", lambda m: page.header_problems.append(m.text)
            if any(s in m.text for s in ("Content Security Policy", "Permissions-Policy", "Refused to")) else None)


def _assert_no_header_problems(page: Any) -> None:
    assert not page.header_problems, f"the browser refused or could not parse: {page.header_problems}"


@pytest.fixture
def browser_page(browser: Any, django_db_serialized_rollback: Any, transactional_db: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page per test; default timeouts 15 s.

    The database is transactional (the live server's thread must see the test's rows) with
    serialized rollback: the rows the data migrations create (consent v1, the taxonomy, the
    role groups) are restored for every test, since a transactional test empties the tables.

    JavaScript errors are collected in ``page.js_errors`` and failed responses in
    ``page.bad_responses`` so that a test can assert that the page ran cleanly.
    """
    context, page = _new_page(browser)
    _watch(page)
    try:
        yield page
        _assert_no_header_problems(page)
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Any, django_db_serialized_rollback: Any, transactional_db: Any) -> Iterator[Any]:
    """Like ``browser_page`` but a phone: 390x844 viewport, touch, mobile user agent."""
    context, page = _new_page(
        browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=3,
        user_agent=("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/124.0 Mobile Safari/537.36"),
    )
    _watch(page)
    try:
        yield page
        _assert_no_header_problems(page)
    finally:
        context.close()


@pytest.fixture
def login() -> Callable[..., None]:
    """login(page, live_server, user, password=PASSWORD): log in through allauth's login form.

    Waits until the browser has left the login page; fails with the page's error text if the
    login was refused.
    """
    from tests.conftest import PASSWORD

    def _login(page: Any, live_server: Any, user: Any, password: str = PASSWORD, next_url: str = "/") -> None:
        page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", password)
        page.click("form#login-form button[type=submit], form[action*='login'] button[type=submit]")
        try:
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
        except Exception as exc:
            errors = page.locator(".errorlist, .form-errors").all_inner_texts()
            raise AssertionError(f"login of {user.email} failed: {errors}") from exc

    return _login
