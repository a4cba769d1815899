"""Admin for accounts: users with roles, versioned consent texts, read-only acceptances."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from facecommons.accounts.models import ConsentAcceptance, ConsentVersion, User
from facecommons.common.audit import audit_record


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class ConsentAcceptanceInline(admin.TabularInline):
    model = ConsentAcceptance
    extra = 0
    can_delete = False
    fields = ("version", "accepted_at", "adult_confirmed", "withdrawn_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "pseudonym", "roles", "is_active", "is_staff", "date_joined", "withdrawn_at")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser", ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "pseudonym")
    readonly_fields = ("uuid", "pseudonym", "date_joined", "last_login", "withdrawn_at", "last_declared_categories")
    filter_horizontal = ("groups", "user_permissions")
    inlines = [ConsentAcceptanceInline]
    fieldsets = (
        (None, {"fields": ("email", "password", "uuid", "pseudonym")}),
        ("Roles", {"fields": ("groups", "is_active", "is_staff", "is_superuser"),
                   "description": "Roles are the groups contributor, moderator, researcher and admin."}),
        ("Permissions", {"classes": ("collapse",), "fields": ("user_permissions",)}),
        ("History", {"fields": ("date_joined", "last_login", "withdrawn_at", "last_declared_categories")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all())) or "—"


@admin.register(ConsentVersion)
class ConsentVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "title", "published_at", "is_current", "acceptance_count", "created_at")
    ordering = ("-version",)
    actions = ["publish"]
    search_fields = ("title", "text")

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentVersion | None = None) -> tuple[str, ...]:
        # A published text is what people agreed to: it may not change afterwards (publish a
        # new version instead). A draft stays editable.
        if obj is not None and obj.published_at is not None:
            return ("version", "title", "text", "published_at", "created_at")
        return ("created_at",)

    def has_delete_permission(self, request: HttpRequest, obj: ConsentVersion | None = None) -> bool:
        return obj is None or obj.published_at is None

    @admin.display(boolean=True, description="Current")
    def is_current(self, obj: ConsentVersion) -> bool:
        from facecommons.accounts.services import consent_current

        current = consent_current()
        return current is not None and current.pk == obj.pk

    @admin.display(description="Acceptances")
    def acceptance_count(self, obj: ConsentVersion) -> int:
        return obj.acceptances.count()

    @admin.action(description="Publish (becomes the current consent; everyone must accept it again)")
    def publish(self, request: HttpRequest, queryset: QuerySet[ConsentVersion]) -> None:
        drafts = list(queryset.filter(published_at__isnull=True).order_by("version"))
        if not drafts:
            self.message_user(request, "Only drafts can be published; nothing changed.", messages.WARNING)
            return
        now = timezone.now()
        for v in drafts:
            v.published_at = now
            v.save(update_fields=["published_at"])
            audit_record(actor=request.user, action="consent_published", obj=v, after={"version": v.version})
        self.message_user(request, f"Published version(s) {', '.join(str(v.version) for v in drafts)}.",
                          messages.SUCCESS)


@admin.register(ConsentAcceptance)
class ConsentAcceptanceAdmin(admin.ModelAdmin):
    """The record of who accepted which text when: evidence, so nobody edits it."""

    list_display = ("user", "version", "accepted_at", "adult_confirmed", "withdrawn_at")
    list_filter = ("version", "adult_confirmed", ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("user__email", "user__pseudonym")
    list_select_related = ("user", "version")
    readonly_fields = ("user", "version", "accepted_at", "adult_confirmed", "withdrawn_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
