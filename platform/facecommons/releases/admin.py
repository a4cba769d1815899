from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from facecommons.common.admin import ReadOnlyAdmin, TextTranslationInline, VersionedTextAdmin
from facecommons.releases import services
from facecommons.releases.models import (
    AgreementAcceptance,
    AgreementTranslation,
    ApplicationStatus,
    Blob,
    DataUseAgreement,
    Download,
    RemovalAcknowledgement,
    ResearcherApplication,
    ResearcherNotice,
    ResearcherToken,
    Snapshot,
    SnapshotEntry,
    SnapshotStatus,
    Subject,
    Withdrawal,
)


class AgreementTranslationInline(TextTranslationInline):
    model = AgreementTranslation


@admin.register(DataUseAgreement)
class DataUseAgreementAdmin(VersionedTextAdmin):
    published_action = "agreement_published"
    inlines = [AgreementTranslationInline]


@admin.register(AgreementAcceptance)
class AgreementAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("user", "agreement", "language", "accepted_at")
    list_filter = ("agreement", "language")


@admin.register(ResearcherApplication)
class ResearcherApplicationAdmin(admin.ModelAdmin):
    """Decide by setting the status (and a reason for a refusal) and saving: the decision goes
    through ``application_decide``, which e-mails the applicant and writes the audit log."""

    list_display = ("name", "institution", "user", "status", "created_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("name", "institution", "user__email")
    readonly_fields = ("user", "name", "institution", "purpose", "agreement", "decided_by", "decided_at", "created_at")
    fields = ("user", "name", "institution", "purpose", "agreement", "status", "reason", "decided_by", "decided_at",
              "created_at")
    actions = ["approve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ResearcherApplication, form: Any, change: bool) -> None:
        new_status = obj.status
        old = ResearcherApplication.objects.get(pk=obj.pk)
        if new_status != old.status and old.status == ApplicationStatus.PENDING:
            obj.status = old.status
            try:
                services.application_decide(application=obj, actor=request.user,
                                            approve=new_status == ApplicationStatus.APPROVED, reason=obj.reason)
            except services.ReleaseError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            return
        if new_status != old.status:
            self.message_user(request, "A decided application cannot change; the applicant may apply again.",
                              messages.ERROR)
            return
        obj.save(update_fields=["reason"])

    @admin.action(description="Approve the selected applications")
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        n = 0
        for app in queryset.filter(status=ApplicationStatus.PENDING):
            services.application_decide(application=app, actor=request.user, approve=True)
            n += 1
        self.message_user(request, f"{n} application(s) approved.")


@admin.register(ResearcherToken)
class ResearcherTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for t in queryset:
            services.token_revoke(token=t, actor=request.user)


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ("subject_id", "user", "created_at")
    search_fields = ("subject_id",)


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ("version", "status", "cutoff_at", "published_at", "manifest_files", "archive_size", "withdrawals_count",
                    "purge_of")
    list_filter = ("status",)
    actions = ["purged_rebuild", "build_now"]

    @admin.action(description="Issue a purged rebuild of the selected snapshot")
    def purged_rebuild(self, request: HttpRequest, queryset: Any) -> None:
        snap = queryset.filter(status=SnapshotStatus.PUBLISHED).first()
        if snap is None:
            self.message_user(request, "Select a published snapshot.", messages.ERROR)
            return
        try:
            new = services.snapshot_request(actor=request.user, purge_of=snap, note=f"purged rebuild of {snap.version}")
            self.message_user(request, f"Snapshot {new.version} is being built.")
        except services.ReleaseError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Start a new snapshot build")
    def build_now(self, request: HttpRequest, queryset: Any) -> None:
        try:
            new = services.snapshot_request(actor=request.user)
            self.message_user(request, f"Snapshot {new.version} is being built.")
        except services.ReleaseError as exc:
            self.message_user(request, str(exc), messages.ERROR)


@admin.register(SnapshotEntry)
class SnapshotEntryAdmin(ReadOnlyAdmin):
    list_display = ("snapshot", "file_name", "subject_id", "split")
    list_filter = ("snapshot", "split")
    search_fields = ("subject_id", "sha256")


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("snapshot", "subject_id", "reason", "withdrawn_at")
    list_filter = ("snapshot", "reason")


@admin.register(Download)
class DownloadAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "user_label", "snapshot", "kind", "detail", "address", "range_header", "status_code",
                    "bytes_requested", "bytes_sent", "served_by")
    list_filter = ("snapshot", "kind", "status_code", "served_by")
    search_fields = ("user_label", "address")
    date_hierarchy = "started_at"


@admin.register(ResearcherNotice)
class ResearcherNoticeAdmin(ReadOnlyAdmin):
    list_display = ("user", "snapshot", "created_at", "read_at")


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    list_display = ("sha256", "size", "contribution_id", "created_at", "withdrawn_at")
    search_fields = ("sha256",)


class AckState(admin.SimpleListFilter):
    title = "acknowledged"
    parameter_name = "acknowledged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Pending"), ("yes", "Acknowledged")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in ("yes", "no"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "no")
        return queryset


@admin.register(RemovalAcknowledgement)
class RemovalAcknowledgementAdmin(ReadOnlyAdmin):
    """Who still holds withdrawn files: researchers who have not acknowledged a removal manifest."""

    list_display = ("user", "snapshot", "withdrawals", "created_at", "acknowledged_at", "reminders", "reminded_at")
    list_filter = (AckState, "snapshot")
    search_fields = ("user__email",)
