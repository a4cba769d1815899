"""The contributor asks a person to check a photo the pipeline did not send to review.

The machine advises, people decide: a photo in which no face was found waits for its
contributor, and a photo rejected automatically (two clear faces) can still be looked at. One
click (web) or one call (API) puts it in the moderation queue with the findings as flags.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from facecommons.common.db import atomic_write
from facecommons.contributions.models import Contribution, ContributionStatus, ReviewRequest
from facecommons.contributions.services import ContributionRefused, contribution_transition

S = ContributionStatus
NOTE_MAX = 1000


def review_request_allowed(contribution: Contribution) -> bool:
    """Whether the owner may ask for a review now (ignoring an existing request)."""
    if contribution.status == S.AWAITING_CONTRIBUTOR:
        return True
    if contribution.status != S.REJECTED:
        return False
    # Only the machine's rejections: a moderator's decision is not reopened this way.
    analysis = getattr(contribution, "analysis", None)
    return analysis is not None and analysis.verdict_code == "reject" and not contribution.reviews.exists()


def contribution_request_review(*, contribution_id: Any, owner: Any, note: str = "") -> ReviewRequest:
    """Put ``owner``'s photo in the moderation queue at their request, with their note.

    Refusals (``ContributionRefused``): not their photo 404, a second request 409, a photo
    that is not waiting for them 409, a note too long 400. Owns its transaction."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ContributionRefused("invalid", _("The note must be at most %(n)d characters.") % {"n": NOTE_MAX}, status=400)

    def request() -> ReviewRequest:
        c = Contribution.objects.select_for_update().filter(pk=contribution_id, owner_id=owner.pk).first()
        if c is None:
            raise ContributionRefused("not_found", _("No such photo."), status=404)
        if ReviewRequest.objects.filter(contribution=c).exists():
            raise ContributionRefused("review_already_requested", _("You have already asked for a person to check this photo. A moderator "
                                        "will look at it; you will see the decision in My photos."), status=409)
        if not review_request_allowed(c):
            raise ContributionRefused("review_not_needed", _("This photo is not waiting for you: it is %(status)s.")
                                      % {"status": str(c.get_status_display()).lower()}, status=409)
        analysis = getattr(c, "analysis", None)
        rr = ReviewRequest.objects.create(contribution=c, note=note,
                                          route=analysis.verdict_code if analysis is not None else "",
                                          findings=list(analysis.findings) if analysis is not None else [])
        contribution_transition(contribution=c, to=S.AWAITING_REVIEW, actor=owner, action="review_requested",
                                note=note, extra={"route": rr.route, "findings": rr.findings})
        return rr

    return atomic_write(request)
