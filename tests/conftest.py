"""Shared fixtures. Real database (SQLite or PostgreSQL per DATABASE_URL), no mocks of it."""

from __future__ import annotations

import copy
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "platform", ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def fresh_storage(settings, tmp_path):
    """A fresh, empty private storage for this test (file-system backends point into
    ``tmp_path/media``; an S3 run keeps its bucket); returns the root. The apps whose tests
    count stored files use it from an autouse fixture of their conftest."""
    root = tmp_path / "media"
    root.mkdir()
    storages = copy.deepcopy(settings.STORAGES)
    for alias in ("default", "private"):
        if storages[alias]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
            storages[alias]["OPTIONS"]["location"] = str(root)
    settings.STORAGES = storages
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    """make_user(role="contributor", email=None, consent=True) -> a verified, active user."""
    from facecommons.accounts.services import account_create, consent_accept, consent_current

    counter = {"n": 0}

    def _make(role: str = "contributor", email: str | None = None, consent: bool = True):
        counter["n"] += 1
        user = account_create(email=email or f"{role}{counter['n']}@example.org", password=PASSWORD, role=role)
        if consent:
            consent_accept(user=user, version=consent_current().version, adult=True)
        return user

    return _make


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for() -> Callable[[object], object]:
    """client_for(user) -> an APIClient authenticated with the user's token."""
    from rest_framework.test import APIClient

    from facecommons.accounts.tokens import api_token_issue

    def _client(user):
        c = APIClient()
        _token, key = api_token_issue(user=user, name="test")
        c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return c

    return _client


def _jpeg(img, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut_image():
    """scikit-image's astronaut (public domain): a real face photo, as a PIL image."""
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.astronaut())


@pytest.fixture
def astronaut_jpeg(astronaut_image) -> bytes:
    return _jpeg(astronaut_image)


@pytest.fixture
def unique_face_jpeg(astronaut_image) -> Callable[[int], bytes]:
    """unique_face_jpeg(i) -> a distinct (different SHA-256) astronaut JPEG."""
    from PIL import ImageDraw

    def _make(i: int) -> bytes:
        img = astronaut_image.copy()
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, 20 + i % 200, 6], fill=(i * 37 % 256, i * 91 % 256, i * 13 % 256))
        return _jpeg(img)

    return _make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores the rows the data migrations wrote (taxonomy, consent,
    groups, schedules). Without this, a transactional test's flush re-creates content types
    with new ids, and the next serialized-rollback test fails to restore its snapshot."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}),
                            append=False)


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts and ends in the default language.

    LocaleMiddleware activates the request's language in the thread and nothing deactivates
    it, so a test client request with ``Accept-Language: es`` would leave the next test's
    service messages in Spanish (seen as an order-dependent failure on SQLite)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
