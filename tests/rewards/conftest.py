"""Helpers for rewards tests: approve through the real transition so the on-commit signal fires."""

from __future__ import annotations

import pytest

from tests.factories import DEFAULT_CATEGORIES, make_contribution


def cats(**over):
    c = dict(DEFAULT_CATEGORIES)
    c.update(over)
    return c


@pytest.fixture
def transition(django_capture_on_commit_callbacks):
    """transition(c, to) through contribution_transition, running the on-commit signal."""
    from facecommons.contributions.services import contribution_transition

    def _t(c, to, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            contribution_transition(contribution=c, to=to, actor=actor)
        return c

    return _t


@pytest.fixture
def approved(transition):
    """approved(owner, **categories) -> a contribution approved through moderation's transition."""

    def _a(owner, categories=None, corrected=None):
        c = make_contribution(owner, status="awaiting_review", categories=categories or cats())
        if corrected:
            c.corrected_categories = corrected
            c.save(update_fields=["corrected_categories"])
        return transition(c, "approved")

    return _a


@pytest.fixture
def seed_dataset(make_user):
    """seed_dataset({"white": 9, "black": 3}) -> approved photos (no points) that set the multipliers."""
    from facecommons.rewards.multipliers import multipliers_current

    def _seed(ethnicities: dict[str, int]):
        owner = make_user()
        for value, n in ethnicities.items():
            for _ in range(n):
                make_contribution(owner, status="approved", categories=cats(ethnicity=[value]))
        return multipliers_current(refresh=True)

    return _seed
