"""The one read-only admin: rows only services write are shown, never added or changed here;
deleted only where the admin says so (a photo with its files, a cache row)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory

from facecommons.common.admin import ReadOnlyAdmin

DELETABLE = {"contributions.contribution", "pipeline.photoanalysis", "evaluation.modelresult"}
READ_ONLY = {"common.auditevent", "accounts.consentacceptance", "contributions.contributionfile",
             "releases.snapshot", "releases.agreementacceptance", "rewards.transaction", "rewards.entry"}


@pytest.mark.django_db
def test_read_only_admins(make_user):
    request = RequestFactory().get("/admin/")
    user = make_user(role="admin")
    user.is_staff = user.is_superuser = True
    request.user = user
    for label in DELETABLE | READ_ONLY:
        model_admin = admin.site._registry[apps.get_model(label)]
        assert isinstance(model_admin, ReadOnlyAdmin), label
        assert model_admin.has_view_permission(request), label
        assert not model_admin.has_add_permission(request) and not model_admin.has_change_permission(request), label
        assert model_admin.has_delete_permission(request) == (label in DELETABLE), label
