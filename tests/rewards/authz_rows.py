"""Rewards URLs in the shared authorisation matrix (tests/web/test_authorization_matrix.py)."""

from __future__ import annotations

from tests.web.authz_matrix import ADMIN_LOGIN, LOGIN, Row, everyone

ADMIN_ONLY_API = {**everyone(403, anonymous=401), "admin": 201}
ADMIN_ONLY_ADMIN = {**everyone(ADMIN_LOGIN), "admin": 200}

AUTHZ_ROWS = [
    Row("GET", "/donate/", everyone(200)),
    Row("GET", "/rewards/multipliers/", everyone(200)),
    Row("GET", "/rewards/", everyone(200, anonymous=LOGIN)),
    Row("POST", "/rewards/choice/", everyone(302, anonymous=LOGIN), data={"choice": "decline"}),
    Row("GET", "/rewards/choice/", everyone(405, anonymous=LOGIN), name="GET /rewards/choice/ (POST only)"),
    Row("GET", "/api/v1/me/rewards/", everyone(200, anonymous=401), kind="api"),
    Row("GET", "/api/v1/rewards/multipliers/", everyone(200), kind="api"),
    Row("POST", "/api/v1/donations/", ADMIN_ONLY_API, kind="api", content_type="json",
        data={"amount_minor": 1250, "currency": "EUR", "source": "manual"}),
    Row("POST", "/api/v1/payout-rounds/", ADMIN_ONLY_API, kind="api", content_type="json", data={}),
    Row("GET", "/api/v1/payout-rounds/", {**everyone(403, anonymous=401), "admin": 200}, kind="api"),
    Row("GET", "/admin/rewards/transaction/", ADMIN_ONLY_ADMIN),
    Row("GET", "/admin/rewards/donation/add/", ADMIN_ONLY_ADMIN),
    Row("GET", "/admin/rewards/payoutround/", ADMIN_ONLY_ADMIN),
    Row("POST", "/admin/rewards/payoutround/start/", {**everyone(ADMIN_LOGIN), "admin": 302}),
]
