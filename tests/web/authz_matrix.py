"""The authorisation matrix: every URL × every kind of caller, with the expected answer.

A row is one request; ``expect`` maps each actor to the expected outcome:

- an ``int``: that HTTP status;
- ``LOGIN``: a redirect to the login page (pages, anonymous);
- ``ADMIN_LOGIN``: a redirect to the admin's login page.

Actors: ``anonymous``, ``owner`` (a contributor who owns ``{photo}``), ``other`` (another
contributor), ``moderator``, ``researcher``, ``admin``. Everyone but the anonymous caller has
accepted the current consent. Pages are requested with a session (``force_login``), API
endpoints with ``Authorization: Token`` (and ``session_api`` rows with the session cookie).

Other apps extend the matrix without editing this file: put ``AUTHZ_ROWS = [Row(...), ...]``
in ``tests/<app>/authz_rows.py``; ``test_authorization_matrix.py`` collects every such module.
A row's ``setup(ctx)`` may create objects and return extra placeholders for ``path``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACTORS = ("anonymous", "owner", "other", "moderator", "researcher", "admin")
LOGIN = "login"
ADMIN_LOGIN = "admin_login"


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int | str]
    kind: str = "page"  # "page" (session), "api" (token) or "session_api" (session cookie on the API)
    data: Any = None  # dict, or a callable(ctx) -> dict
    content_type: str | None = None  # "json", "multipart" or None (form-encoded / query)
    setup: Callable[[Any], dict[str, str]] | None = None
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or f"{self.method} {self.path}"


def everyone(status: int | str, anonymous: int | str | None = None) -> dict[str, int | str]:
    out: dict[str, int | str] = {a: status for a in ACTORS}
    if anonymous is not None:
        out["anonymous"] = anonymous
    return out


def photo_access(allowed: int, denied: int = 404, anonymous: int | str = 404, moderators: int | None = None
                 ) -> dict[str, int | str]:
    """The owner gets ``allowed``; other contributors and researchers ``denied``; moderators
    and admins ``moderators`` (default: like the owner)."""
    mod = allowed if moderators is None else moderators
    return {"anonymous": anonymous, "owner": allowed, "other": denied, "moderator": mod, "researcher": denied,
            "admin": mod}


def owner_only(allowed: int, anonymous: int | str) -> dict[str, int | str]:
    return photo_access(allowed, 404, anonymous, moderators=404)


def _with_thumbnail(ctx: Any) -> dict[str, str]:
    """Give the owner's photo a stored thumbnail, as the pipeline would."""
    import hashlib

    from facecommons.common.storage import storage_save_bytes
    from facecommons.contributions.models import ContributionFile, FileVariant
    from tests.factories import jpeg_bytes

    data = jpeg_bytes(64, 64, seed=7)
    sha = hashlib.sha256(data).hexdigest()
    key = f"derived/{ctx.photo.pk}/thumbnail.jpg"
    storage_save_bytes(key, data)
    ContributionFile.objects.create(contribution=ctx.photo, variant=FileVariant.THUMBNAIL, key=key, sha256=sha,
                                    width=64, height=64, byte_size=len(data))
    return {}


def _awaiting_contributor(ctx: Any) -> dict[str, str]:
    """The owner's photo as the pipeline leaves it when it found no face."""
    from facecommons.contributions.models import Contribution
    from facecommons.pipeline.models import PhotoAnalysis

    Contribution.objects.filter(pk=ctx.photo.pk).update(status="awaiting_contributor")
    PhotoAnalysis.objects.create(contribution=ctx.photo, verdict_code="await_contributor", findings=["no_face"])
    return {}


def _upload_body(ctx: Any) -> dict[str, Any]:
    import io

    from tests.factories import DEFAULT_CATEGORIES

    f = io.BytesIO(ctx.unique_jpeg())
    f.name = "me.jpg"
    return {"image": f, "categories": json.dumps(DEFAULT_CATEGORIES)}


def _web_upload_body(ctx: Any) -> dict[str, Any]:
    import io

    f = io.BytesIO(ctx.unique_jpeg())
    f.name = "me.jpg"
    return {"image": f, "cat-age_range": "25_34", "cat-gender": "woman", "cat-ethnicity": ["black"],
            "cat-skin_tone": "8", "cat-accessories": ["none"], "cat-lighting": "indoor"}


CATEGORY_FORM = {"cat-age_range": "35_44", "cat-gender": "man", "cat-ethnicity": ["white"], "cat-skin_tone": "3",
                 "cat-accessories": ["glasses"], "cat-lighting": "indoor"}

LOGGED_IN_PAGE = everyone(200, anonymous=LOGIN)

ROWS: list[Row] = [
    # --- pages ------------------------------------------------------------------------------
    Row("GET", "/", everyone(200)),
    Row("GET", "/healthz", everyone(200)),
    Row("GET", "/consent/", LOGGED_IN_PAGE),
    Row("GET", "/upload/", LOGGED_IN_PAGE),
    Row("GET", "/guidelines/", LOGGED_IN_PAGE),
    Row("POST", "/upload/", everyone(302, anonymous=LOGIN), data=_web_upload_body, content_type="multipart",
        name="POST /upload/ (no-JS upload)"),
    Row("GET", "/my/photos/", LOGGED_IN_PAGE),
    Row("GET", "/my/photos/status/", LOGGED_IN_PAGE),
    Row("GET", "/my/photos/{photo}/", photo_access(200, anonymous=LOGIN)),
    Row("POST", "/my/photos/{photo}/", owner_only(302, anonymous=LOGIN), data=CATEGORY_FORM,
        name="POST /my/photos/{photo}/ (edit categories)"),
    Row("POST", "/my/photos/{photo}/delete/", owner_only(302, anonymous=LOGIN), data={"confirm": "yes"}),
    Row("POST", "/my/photos/{photo}/review-request/", owner_only(302, anonymous=LOGIN), data={"note": "Please look."},
        setup=_awaiting_contributor),
    Row("GET", "/my/photos/{photo}/image/?variant=original", photo_access(200)),
    Row("GET", "/my/photos/{photo}/image/?variant=thumbnail", photo_access(200), setup=_with_thumbnail),
    Row("GET", "/my/photos/{photo}/image/?variant=enhanced", photo_access(404), name="image variant not stored"),
    Row("GET", "/my/photos/00000000-0000-4000-8000-000000000000/image/?variant=original", everyone(404),
        name="image of a photo that does not exist"),
    Row("GET", "/my/export/", LOGGED_IN_PAGE),
    Row("POST", "/my/export/", LOGGED_IN_PAGE),
    Row("GET", "/my/withdraw/", LOGGED_IN_PAGE),
    Row("POST", "/my/withdraw/", everyone(302, anonymous=LOGIN), data={"confirm": "DELETE MY DATA"}),
    Row("GET", "/account/", LOGGED_IN_PAGE),
    Row("GET", "/admin/", {**everyone(ADMIN_LOGIN), "admin": 200}),
    Row("GET", "/admin/contributions/contribution/{photo}/change/", {**everyone(ADMIN_LOGIN), "admin": 200}),
    Row("GET", "/accounts/login/", {**everyone(302), "anonymous": 200}),  # logged in: sent on
    Row("GET", "/accounts/signup/", {**everyone(302), "anonymous": 200}),
    # --- API v1 (token) ---------------------------------------------------------------------
    Row("POST", "/api/v1/auth/token/", everyone(200), kind="api", content_type="json",
        data=lambda ctx: {"email": ctx.users["owner"].email, "password": ctx.password}),
    Row("GET", "/api/v1/taxonomy/", everyone(200), kind="api"),
    Row("GET", "/api/v1/consent/", everyone(200), kind="api"),
    Row("POST", "/api/v1/consent/", everyone(201, anonymous=401), kind="api", content_type="json",
        data={"version": 1, "adult": True}),
    Row("GET", "/api/v1/contributions/", everyone(200, anonymous=401), kind="api"),
    Row("POST", "/api/v1/contributions/", everyone(201, anonymous=401), kind="api", data=_upload_body,
        content_type="multipart"),
    Row("GET", "/api/v1/contributions/{photo}/", owner_only(200, anonymous=401), kind="api"),
    Row("PATCH", "/api/v1/contributions/{photo}/", owner_only(200, anonymous=401), kind="api", content_type="json",
        data={"categories": {"lighting": "night"}}),
    Row("DELETE", "/api/v1/contributions/{photo}/", owner_only(204, anonymous=401), kind="api"),
    Row("POST", "/api/v1/contributions/{photo}/review-request/", owner_only(200, anonymous=401), kind="api",
        content_type="json", data={"note": "Please look."}, setup=_awaiting_contributor),
    Row("GET", "/api/v1/contributions/{photo}/image/?variant=original", photo_access(200), kind="api"),
    Row("GET", "/api/v1/contributions/{photo}/image/?variant=thumbnail", photo_access(200), kind="api",
        setup=_with_thumbnail),
    Row("GET", "/api/v1/me/export/", everyone(200, anonymous=401), kind="api"),
    Row("POST", "/api/v1/me/withdraw/", everyone(200, anonymous=401), kind="api", content_type="json",
        data={"confirm": True}),
    Row("GET", "/api/schema/", everyone(200), kind="api"),
    Row("GET", "/api/docs/", everyone(200), kind="api"),
    # --- API with the session cookie (what the upload page's JavaScript uses) -----------------
    Row("GET", "/api/v1/contributions/{photo}/", owner_only(200, anonymous=401), kind="session_api",
        name="session GET /api/v1/contributions/{photo}/"),
    Row("GET", "/api/v1/contributions/{photo}/image/?variant=original", photo_access(200), kind="session_api",
        name="session GET image"),
]


@dataclass
class Context:
    """What rows can refer to: the actors' users, the owner's photo, helpers."""

    users: dict[str, Any]
    photo: Any
    password: str
    unique_jpeg: Callable[[], bytes]
    extra: dict[str, str] = field(default_factory=dict)
