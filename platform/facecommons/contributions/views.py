"""Contributor pages: upload, My photos (list, live status, detail, edit, delete).

The upload page sends each file to ``POST /api/v1/contributions/`` from JavaScript (one
progress bar per file); without JavaScript the same form posts here and is handled by the
same service. Views stay thin: writes go through ``contributions.services``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enhancement.assess import DARK_FRACTION_THRESHOLD, DARK_LEVEL, MEAN_THRESHOLD, P95_THRESHOLD, WORK_SIZE
from facecommons.accounts.services import consent_current, user_has_current_consent
from facecommons.contributions.forms import CategoriesForm
from facecommons.contributions.models import Contribution, ContributionStatus, FileVariant, TaxonomyVersion
from facecommons.contributions.review_requests import contribution_request_review, review_request_allowed
from facecommons.contributions.selectors import (
    contribution_get_visible,
    contribution_list_for_owner,
    contributor_progress,
    duration_words,
    taxonomy_current,
    typical_review_seconds,
)
from facecommons.contributions.services import (
    EDITABLE_STATUSES,
    contribution_create,
    contribution_delete,
    contribution_update_categories,
)
from facecommons.contributions.upload import ACCEPTED_LABEL, UploadRejected, max_upload_bytes, min_short_side
from facecommons.pipeline.findings import FINDING_MESSAGES, finding_items

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"
# Statuses after which the pipeline no longer changes anything by itself: polling stops.
SETTLED = [ContributionStatus.AWAITING_REVIEW, ContributionStatus.AWAITING_CONTRIBUTOR, ContributionStatus.APPROVED,
           ContributionStatus.REJECTED, ContributionStatus.FAILED]
# Statuses nothing changes by itself any more: My photos stops polling (a photo awaiting
# review still changes when a moderator decides, so that page keeps polling, slowly).
FINAL = [ContributionStatus.APPROVED, ContributionStatus.REJECTED, ContributionStatus.FAILED,
         ContributionStatus.AWAITING_CONTRIBUTOR]
MAX_FILES_PER_POST = 20


# --- presentation helpers -------------------------------------------------------------------

class _TaxonomyLabels:
    """Labels of every taxonomy version a page shows, loaded once per version."""

    def __init__(self) -> None:
        self._cache: dict[int, dict[str, tuple[str, dict[str, str]]]] = {}

    def of(self, taxonomy_id: int) -> dict[str, tuple[str, dict[str, str]]]:
        if taxonomy_id not in self._cache:
            tax = TaxonomyVersion.objects.prefetch_related("categories__values").get(pk=taxonomy_id)
            self._cache[taxonomy_id] = {
                c.key: (c.display_label, {v.key: v.display_label for v in c.values.all()})
                for c in sorted(tax.categories.all(), key=lambda c: (c.order, c.id))
            }
        return self._cache[taxonomy_id]


def _label_list(values: Any, labels: dict[str, str]) -> str:
    items = values if isinstance(values, list) else [values]
    return ", ".join(labels.get(str(v), str(v)) for v in items if v not in (None, ""))


def category_rows(c: Contribution, labels: _TaxonomyLabels) -> list[dict[str, str]]:
    """One row per category: declared label(s), free text, and any moderator correction."""
    rows = []
    for key, (label, value_labels) in labels.of(c.taxonomy_id).items():
        declared = _label_list(c.categories.get(key), value_labels) if key in c.categories else ""
        text = (c.categories_free_text or {}).get(key, "")
        if text:
            declared = f"{declared} ({text})" if declared else text
        corrected = ""
        if key in (c.corrected_categories or {}) and c.corrected_categories[key] != c.categories.get(key):
            corrected = _label_list(c.corrected_categories[key], value_labels) or gettext("(removed)")
        rows.append({"key": key, "label": label, "declared": declared or "—", "corrected": corrected})
    return rows


def _image_url(c: Contribution, variant: str) -> str:
    return reverse("contribution-image", args=[c.pk]) + f"?variant={variant}"


def _thumb_url(c: Contribution) -> str:
    """The thumbnail once the pipeline made it, the original until then."""
    variants = {f.variant for f in c.files.all()}
    return _image_url(c, FileVariant.THUMBNAIL if FileVariant.THUMBNAIL in variants else FileVariant.ORIGINAL)


def rejection_text(message: str) -> str:
    """The stored (English) rejection sentence in the reader's language.

    The standard sentences are catalogue entries (``REJECT_MESSAGES``); a moderator's note
    after the standard sentence stays as written."""
    if not message:
        return gettext("This photo was not accepted.")
    translated = gettext(message)
    if translated != message:
        return translated
    head, sep, rest = message.partition(". ")
    sentence = head + sep.strip()
    if sep and gettext(sentence) != sentence:
        return f"{gettext(sentence)} {rest}"
    return message


def photo_status(c: Contribution) -> dict[str, Any]:
    """What the pages show (and poll) about a photo's status.

    ``findings`` are the pipeline's (with the sentence the contributor reads), shown while the
    photo waits for a decision; once a person has decided, their decision is what counts."""
    reason = ""
    analysis = getattr(c, "analysis", None)
    codes = list(analysis.findings) if analysis is not None else []
    if c.status == ContributionStatus.REJECTED:
        # The machine's rejection is shown in the reader's language by its finding code.
        machine = analysis is not None and analysis.verdict_code == "reject"
        reason = (str(FINDING_MESSAGES[c.rejection_code]) if machine and c.rejection_code in FINDING_MESSAGES
                  else rejection_text(c.rejection_message))
    elif c.status == ContributionStatus.FAILED:
        reason = gettext("Something went wrong while processing this photo. We will retry or look into it.")
    requested = getattr(c, "review_request", None)
    show_findings = c.status in (ContributionStatus.AWAITING_REVIEW, ContributionStatus.AWAITING_CONTRIBUTOR)
    return {
        "id": str(c.pk), "status": c.status, "status_label": str(c.get_status_display()), "reason": reason,
        "settled": c.status in FINAL, "editable": c.status in EDITABLE_STATUSES, "thumb_url": _thumb_url(c),
        "findings": finding_items(codes) if show_findings else [],
        "review_requested": requested is not None,
        "can_request_review": requested is None and review_request_allowed(c),
        "review_request_url": reverse("my-photo-review-request", args=[c.pk]),
    }


def _require_consent(request: HttpRequest, next_url: str) -> HttpResponse | None:
    if user_has_current_consent(request.user):  # type: ignore[arg-type]
        return None
    if consent_current() is None:
        messages.error(request, gettext("Uploads are not open yet: there is no consent text to accept."))
    else:
        messages.info(request, gettext("Before you upload, please read and accept the current consent and "
                                       "confirm that you are 18 or older."))
    # A first-time contributor goes consent -> guidelines -> upload.
    if not Contribution.objects.filter(owner_id=request.user.pk).exists() and next_url == reverse("upload"):
        next_url = reverse("guidelines") + "?onboarding=1"
    return redirect(f"{reverse('consent')}?next={quote(next_url)}")


# --- guidelines -----------------------------------------------------------------------------

def _guidelines() -> list[dict[str, str]]:
    return [
        {"key": "light", "title": gettext("Good light on your face"),
         "text": gettext("Face a window or a lamp. Avoid a bright light behind you, and very dark rooms."),
         "good": "guidelines/light-good.svg", "good_alt": gettext("A face lit evenly from the front"),
         "bad": "guidelines/light-bad.svg", "bad_alt": gettext("A face too dark to see")},
        {"key": "framing", "title": gettext("Your whole face, not too small"),
         "text": gettext("Hold the camera at arm's length: your head and shoulders fill most of the photo, "
                         "nothing of your face is cut off."),
         "good": "guidelines/framing-good.svg", "good_alt": gettext("Head and shoulders filling the photo"),
         "bad": "guidelines/framing-bad.svg", "bad_alt": gettext("A small face at the edge of the photo")},
        {"key": "one-person", "title": gettext("Only you"),
         "text": gettext("One person per photo: you. Crop out or avoid other people, posters and screens with faces."),
         "good": "guidelines/one-person-good.svg", "good_alt": gettext("One person in the photo"),
         "bad": "guidelines/one-person-bad.svg", "bad_alt": gettext("Two people in the photo")},
        {"key": "no-filters", "title": gettext("No filters, no dark glasses"),
         "text": gettext("Use the photo as the camera took it: no beauty filters, stickers or sunglasses. "
                         "Everyday glasses, head coverings and make-up are welcome."),
         "good": "guidelines/no-filter-good.svg", "good_alt": gettext("A natural photo without filters"),
         "bad": "guidelines/no-filter-bad.svg", "bad_alt": gettext("A photo with a filter and dark glasses")},
    ]


@login_required
@require_GET
def guidelines_page(request: HttpRequest) -> HttpResponse:
    """Shown once after consent (``?onboarding=1``), and from the upload page and any rejection."""
    return render(request, "contributions/guidelines.html", {
        "guidelines": _guidelines(), "onboarding": request.GET.get("onboarding") == "1",
    })


# --- upload ---------------------------------------------------------------------------------

def _light_rule() -> dict[str, float]:
    """The pipeline's low-light rule, for the upload page's estimate in the browser: the same
    thresholds on the same statistics (Rec. 709 luma of a <= 256 px copy), so the lighting it
    pre-fills is what the pipeline will measure, and a mismatch means the person chose it."""
    return {"mean": MEAN_THRESHOLD, "dark_level": DARK_LEVEL, "dark_fraction": DARK_FRACTION_THRESHOLD,
            "p95": P95_THRESHOLD, "work_size": WORK_SIZE}


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def upload_page(request: HttpRequest) -> HttpResponse:
    needs = _require_consent(request, reverse("upload"))
    if needs is not None:
        return needs
    taxonomy = taxonomy_current()
    user: Any = request.user
    last = user.last_declared_categories or {}
    # The user row remembers the chosen values; the self-described words come from the
    # latest photo declared with those same values.
    latest = Contribution.objects.filter(owner=user).order_by("-created_at").only("categories",
                                                                                  "categories_free_text").first()
    last_text = latest.categories_free_text if latest is not None and latest.categories == last else {}
    form = CategoriesForm(taxonomy, request.POST or None, initial_categories=last, initial_free_text=last_text)
    status = 200
    if request.method == "POST":
        # The no-JavaScript path: the whole form with every selected file in one request.
        files = request.FILES.getlist("image") + request.FILES.getlist("camera")
        if not files:
            form.is_valid()
            form.add_error(None, gettext("Please choose at least one photo to upload."))
            status = 400
        elif len(files) > MAX_FILES_PER_POST:
            form.add_error(None, gettext("Please upload at most %(max)s photos at a time.") % {"max": MAX_FILES_PER_POST})
            status = 400
        elif form.is_valid():
            created = 0
            for f in files:
                try:
                    contribution_create(owner=user, fileobj=f, filename=f.name or "", content_type=f.content_type,
                                        categories=form.cleaned_categories, free_text=form.cleaned_free_text)
                    created += 1
                except UploadRejected as exc:
                    messages.error(request, f"{f.name}: {exc.message}")
                except ValidationError as exc:
                    messages.error(request, f"{f.name}: {' '.join(exc.messages)}")
            if created:
                messages.success(request, ngettext("%(count)s photo received. You can follow its progress here.",
                                                   "%(count)s photos received. You can follow their progress here.",
                                                   created) % {"count": created})
                return redirect("my-photos")
            status = 400
        else:
            status = 400
    specs = form.specs()
    return render(request, "contributions/upload.html", {
        "form": form, "specs": specs, "taxonomy": taxonomy, "accept": ACCEPT, "light": _light_rule(),
        "lighting": next((spec for spec in specs if spec.key == "lighting"), None),
        "accepted_label": ACCEPTED_LABEL, "max_bytes": max_upload_bytes(), "max_mb": max_upload_bytes() // (1024 * 1024),
        "min_side": min_short_side(), "settled": [s.value for s in SETTLED], "review_wait": _review_wait(),
    }, status=status)


def _review_wait() -> str | None:
    seconds = typical_review_seconds()
    return None if seconds is None else duration_words(seconds)


# --- my photos ------------------------------------------------------------------------------

@login_required
@never_cache
@require_GET
def photos_page(request: HttpRequest) -> HttpResponse:
    labels = _TaxonomyLabels()
    photos = []
    for c in contribution_list_for_owner(owner=request.user).select_related("taxonomy"):
        rows = category_rows(c, labels)
        photos.append({"c": c, "rows": rows, "corrected": any(r["corrected"] for r in rows), **photo_status(c)})
    return render(request, "contributions/photos.html", {
        "photos": photos, "progress": contributor_progress(owner=request.user), "review_wait": _review_wait()})


@login_required
@never_cache
@require_GET
def photos_status(request: HttpRequest) -> JsonResponse:
    """The own photos' statuses, polled by the My photos page (session authentication)."""
    items = [photo_status(c) for c in contribution_list_for_owner(owner=request.user)]
    return JsonResponse({"photos": items, "settled": all(i["settled"] for i in items)})


def _visible_or_404(request: HttpRequest, contribution_id: Any) -> Contribution:
    c = contribution_get_visible(user=request.user, contribution_id=contribution_id)
    if c is None:
        raise Http404(gettext("No such photo."))
    return c


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def photo_detail_page(request: HttpRequest, contribution_id: Any) -> HttpResponse:
    """The owner sees and edits their photo; moderators and admins may look (read-only)."""
    c = _visible_or_404(request, contribution_id)
    is_owner = c.owner_id == request.user.pk
    editable = is_owner and c.status in EDITABLE_STATUSES
    form = None
    status = 200
    if editable:
        taxonomy = taxonomy_current()
        form = CategoriesForm(taxonomy, request.POST if request.method == "POST" else None,
                              initial_categories=c.categories, initial_free_text=c.categories_free_text)
    if request.method == "POST":
        if not is_owner:
            raise Http404(gettext("No such photo."))
        if form is None:
            messages.error(request, gettext("This photo has already been reviewed, so its categories can no longer change."))
            return redirect("my-photo", contribution_id=c.pk)
        if form.is_valid():
            try:
                contribution_update_categories(contribution=c, categories=form.cleaned_categories,
                                               free_text=form.cleaned_free_text, actor=request.user)
            except UploadRejected as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, gettext("Your categories for this photo were updated."))
            return redirect("my-photo", contribution_id=c.pk)
        status = 400
    labels = _TaxonomyLabels()
    photo = photo_status(c)
    return render(request, "contributions/photo_detail.html", {
        "c": c, "is_owner": is_owner, "rows": category_rows(c, labels), "form": form,
        "specs": form.specs() if form else [], "image_url": _image_url(c, FileVariant.ORIGINAL), "photo": photo,
        **photo,
    }, status=status)


@login_required
@require_POST
def photo_delete(request: HttpRequest, contribution_id: Any) -> HttpResponse:
    c = _visible_or_404(request, contribution_id)
    if c.owner_id != request.user.pk:
        raise Http404(gettext("No such photo."))
    if request.POST.get("confirm") != "yes":
        messages.error(request, gettext("Please tick the box to confirm that you want to delete this photo."))
        return redirect("my-photo", contribution_id=c.pk)
    contribution_delete(contribution=c, actor=request.user, reason="deleted_by_owner")
    messages.success(request, gettext("The photo and every stored copy of it were deleted."))
    return redirect("my-photos")


@login_required
@require_POST
def photo_review_request(request: HttpRequest, contribution_id: Any) -> HttpResponse:
    """One click: ask a person to check a photo the pipeline did not send to review."""
    c = _visible_or_404(request, contribution_id)
    if c.owner_id != request.user.pk:
        raise Http404(gettext("No such photo."))
    try:
        contribution_request_review(contribution_id=c.pk, owner=request.user, note=request.POST.get("note", ""))
    except UploadRejected as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Thank you. A moderator will look at this photo; you will see the "
                                          "decision here."))
    target = request.POST.get("next") or ""
    if target == "detail":
        return redirect("my-photo", contribution_id=c.pk)
    return redirect("my-photos")
