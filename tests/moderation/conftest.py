"""Fixtures of the moderation tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture
def mods(make_user):
    return [make_user(role="moderator") for _ in range(3)]


@pytest.fixture
def contributor(make_user):
    return make_user()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.delete("moderation:approved_value_counts")
    yield


def decide(moderator, contribution, decision="approve", **kw):
    """Lease ``contribution`` for ``moderator`` (it must be next for them) and decide."""
    from django.utils import timezone

    from facecommons.moderation.services import lease_take, review_decide

    assert lease_take(moderator=moderator, contribution_id=contribution.pk, now=timezone.now())
    return review_decide(moderator=moderator, contribution=contribution, decision=decision, **kw)
