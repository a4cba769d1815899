"""Consensus, refusals, escalations, corrections and the audit trail of review_decide."""

from __future__ import annotations

import pytest
from django.test import override_settings

from facecommons.common.models import AuditEvent
from facecommons.contributions.models import Contribution
from facecommons.moderation.models import Escalation, Review, ReviewLease
from facecommons.moderation.services import (
    ModerationError,
    escalation_resolve,
    queue_lease_next,
    review_decide,
)
from tests.factories import make_contribution
from tests.moderation.conftest import decide

pytestmark = pytest.mark.django_db


def _status(c):
    return Contribution.objects.get(pk=c.pk).status


def test_two_approvals_approve(mods, contributor):
    c = make_contribution(contributor)
    assert decide(mods[0], c).outcome == "pending"
    assert _status(c) == "awaiting_review"
    assert decide(mods[1], c).outcome == "approved"
    assert _status(c) == "approved"
    actions = list(AuditEvent.objects.filter(object_id=str(c.pk)).values_list("action", flat=True))
    assert actions.count("moderation_approve") == 2
    assert "moderation_approved" in actions
    assert not ReviewLease.objects.filter(contribution=c).exists()


@override_settings(MODERATION_CONSENSUS=3)
def test_consensus_setting(mods, contributor):
    c = make_contribution(contributor)
    decide(mods[0], c)
    decide(mods[1], c)
    assert _status(c) == "awaiting_review"
    assert decide(mods[2], c).outcome == "approved"


def test_two_rejections_same_reason_reject_with_message(mods, contributor):
    c = make_contribution(contributor)
    decide(mods[0], c, "reject", reason_code="poor_quality")
    r = decide(mods[1], c, "reject", reason_code="poor_quality")
    assert r.outcome == "rejected"
    c.refresh_from_db()
    assert c.status == "rejected" and c.rejection_code == "poor_quality"
    assert "quality" in c.rejection_message


def test_reject_reasons_differ_escalates(mods, contributor):
    c = make_contribution(contributor)
    decide(mods[0], c, "reject", reason_code="poor_quality")
    assert decide(mods[1], c, "reject", reason_code="several_people").outcome == "escalated"
    assert Escalation.objects.get(contribution=c).reason == "reject_reasons_differ"
    assert _status(c) == "awaiting_review"


def test_approve_vs_reject_escalates_and_admin_decides(mods, contributor, make_user):
    c = make_contribution(contributor)
    decide(mods[0], c, "approve")
    assert decide(mods[1], c, "reject", reason_code="appears_minor").outcome == "escalated"
    # An escalated photo leaves the queue.
    assert queue_lease_next(moderator=mods[2]) is None
    admin = make_user(role="admin")
    with pytest.raises(ModerationError) as e:
        escalation_resolve(admin=mods[2], contribution=c, decision="approve")
    assert e.value.status == 403
    escalation_resolve(admin=admin, contribution=c, decision="reject", reason_code="appears_minor", note="looks 16")
    c.refresh_from_db()
    assert c.status == "rejected" and c.rejection_code == "appears_minor"
    esc = Escalation.objects.get(contribution=c)
    assert esc.status == "resolved" and esc.resolved_by == admin
    assert AuditEvent.objects.filter(object_id=str(c.pk), action="escalation_resolved", actor=admin).exists()
    assert AuditEvent.objects.filter(object_id=str(c.pk), action="escalation_rejected").exists()
    with pytest.raises(ModerationError):
        escalation_resolve(admin=admin, contribution=c, decision="approve")


def test_moderator_escalates(mods, contributor):
    c = make_contribution(contributor)
    assert decide(mods[0], c, "escalate", note="unsure").outcome == "escalated"
    assert Escalation.objects.get(contribution=c).raised_by == mods[0]


def test_skip_does_not_count_and_is_not_offered_again(mods, contributor):
    c = make_contribution(contributor)
    assert decide(mods[0], c, "skip").outcome == "skipped"
    assert queue_lease_next(moderator=mods[0]) is None
    assert queue_lease_next(moderator=mods[1]).pk == c.pk


def test_own_photo_refused(mods):
    c = make_contribution(mods[0])
    assert queue_lease_next(moderator=mods[0]) is None
    with pytest.raises(ModerationError) as e:
        review_decide(moderator=mods[0], contribution=c, decision="approve")
    assert e.value.status == 403 and e.value.code == "own_photo"


def test_double_review_refused(mods, contributor):
    c = make_contribution(contributor)
    decide(mods[0], c)
    assert queue_lease_next(moderator=mods[0]) is None
    with pytest.raises(ModerationError) as e:
        review_decide(moderator=mods[0], contribution=c, decision="approve")
    assert e.value.status == 409 and e.value.code == "already_reviewed"
    assert Review.objects.filter(contribution=c).count() == 1


def test_decision_without_lease_refused(mods, contributor):
    c = make_contribution(contributor)
    with pytest.raises(ModerationError) as e:
        review_decide(moderator=mods[0], contribution=c, decision="approve")
    assert e.value.code == "not_leased" and e.value.status == 409
    assert queue_lease_next(moderator=mods[1]).pk == c.pk
    with pytest.raises(ModerationError) as e:
        review_decide(moderator=mods[0], contribution=c, decision="approve")
    assert e.value.code == "not_leased"


@pytest.mark.parametrize("kw,code", [
    ({"decision": "reject"}, "invalid_reason"),
    ({"decision": "reject", "reason_code": "nope"}, "invalid_reason"),
    ({"decision": "reject", "reason_code": "other"}, "note_required"),
    ({"decision": "approve", "reason_code": "poor_quality"}, "invalid_reason"),
    ({"decision": "correct"}, "invalid_categories"),
    ({"decision": "correct", "categories": {"skin_tone": "99"}}, "invalid_categories"),
    ({"decision": "correct", "categories": {"nope": "1"}}, "invalid_categories"),
    ({"decision": "reject", "reason_code": "poor_quality", "categories": {"skin_tone": "3"}}, "invalid_categories"),
    ({"decision": "maybe"}, "invalid_decision"),
])
def test_bad_input_refused(mods, contributor, kw, code):
    c = make_contribution(contributor)
    assert queue_lease_next(moderator=mods[0]).pk == c.pk
    with pytest.raises(ModerationError) as e:
        review_decide(moderator=mods[0], contribution=c, **kw)
    assert e.value.code == code and e.value.status == 400
    assert not Review.objects.exists()


def test_correction_keeps_declared_and_is_audited(mods, contributor):
    c = make_contribution(contributor)
    declared = dict(c.categories)
    decide(mods[0], c, "correct", categories={"skin_tone": "3", "lighting": "indoor"})
    c.refresh_from_db()
    assert c.categories == declared
    assert c.corrected_categories == {"skin_tone": "3"}  # lighting equals the declared value
    assert c.effective_categories["skin_tone"] == "3"
    ev = AuditEvent.objects.get(object_id=str(c.pk), action="categories_corrected")
    assert ev.before["corrected_categories"] == {} and ev.after["corrected_categories"] == {"skin_tone": "3"}
    assert decide(mods[1], c, "approve").outcome == "approved"


def test_reject_other_message_includes_note(mods, contributor):
    c = make_contribution(contributor)
    decide(mods[0], c, "reject", reason_code="other", note="A screenshot of a photo")
    decide(mods[1], c, "reject", reason_code="other", note="Photo of a screen")
    c.refresh_from_db()
    assert c.status == "rejected" and "screenshot" in c.rejection_message.lower()


def test_every_transition_is_audited(mods, contributor):
    """No status change without an audit event: compare events with transitions."""
    cs = [make_contribution(contributor) for _ in range(3)]
    decide(mods[0], cs[0]); decide(mods[1], cs[0])  # noqa: E702
    decide(mods[0], cs[1], "reject", reason_code="duplicate"); decide(mods[1], cs[1], "reject", reason_code="duplicate")  # noqa: E702,E501
    for c in cs[:2]:
        c.refresh_from_db()
        ev = AuditEvent.objects.filter(object_id=str(c.pk), after__status=c.status).first()
        assert ev is not None and ev.before == {"status": "awaiting_review"}
