"""Moderation URLs in the shared authorisation matrix (tests/web/test_authorization_matrix.py)."""

from __future__ import annotations

from tests.web.authz_matrix import LOGIN, Row, everyone

MODERATORS_PAGE = {**everyone(403, anonymous=LOGIN), "moderator": 200, "admin": 200}
ADMINS_PAGE = {**everyone(403, anonymous=LOGIN), "admin": 200}
MODERATORS_API = {**everyone(403, anonymous=401), "moderator": 200, "admin": 200}

AUTHZ_ROWS = [
    Row("GET", "/moderation/", MODERATORS_PAGE),
    Row("GET", "/moderation/agreement/", ADMINS_PAGE),
    Row("GET", "/moderation/audit/", ADMINS_PAGE),
    Row("GET", "/moderation/audit/?format=csv", ADMINS_PAGE, name="GET /moderation/audit/ (CSV)"),
    Row("GET", "/moderation/escalations/", ADMINS_PAGE),
    # The owner's photo is the only one awaiting review: moderators lease it (200).
    Row("POST", "/api/v1/moderation/next/", MODERATORS_API, kind="api", content_type="json", data={}),
    # Without a lease a moderator's decision is a conflict; everyone else is refused first.
    Row("POST", "/api/v1/moderation/{photo}/decision/", {**everyone(403, anonymous=401), "moderator": 409,
                                                          "admin": 409}, kind="api", content_type="json",
        data={"decision": "approve"}),
]
