"""Admin for accounts: users with roles, versioned consent texts, read-only acceptances."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from facecommons.accounts.models import (
    ComprehensionCheck,
    ConsentAcceptance,
    ConsentTranslation,
    ConsentVersion,
    User,
)
from facecommons.common.admin import ReadOnlyAdmin, TextTranslationInline, VersionedTextAdmin


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
    fields = ("version", "language", "accepted_at", "adult_confirmed", "withdrawn_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ComprehensionCheckInline(admin.StackedInline):
    model = ComprehensionCheck
    extra = 0
    can_delete = False
    fields = ("version", "language", "attempts", "wrong", "passed_at", "updated_at")
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
    inlines = [ConsentAcceptanceInline, ComprehensionCheckInline]
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


class ConsentTranslationInline(TextTranslationInline):
    model = ConsentTranslation


@admin.register(ConsentVersion)
class ConsentVersionAdmin(VersionedTextAdmin):
    published_action = "consent_published"
    inlines = [ConsentTranslationInline]


@admin.register(ConsentAcceptance)
class ConsentAcceptanceAdmin(ReadOnlyAdmin):
    """The record of who accepted which text when: evidence, so nobody edits it."""

    list_display = ("user", "version", "language", "accepted_at", "adult_confirmed", "withdrawn_at")
    list_filter = ("version", "language", "adult_confirmed", ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("user__email", "user__pseudonym")
    list_select_related = ("user", "version")
    readonly_fields = ("user", "version", "language", "accepted_at", "adult_confirmed", "withdrawn_at")


@admin.register(ComprehensionCheck)
class ComprehensionCheckAdmin(ReadOnlyAdmin):
    """The comprehension check before each person's first consent: evidence, read-only.
    ``wrong`` counts the wrong answers per question (which question confuses people)."""

    list_display = ("user", "version", "language", "attempts", "passed_at", "updated_at")
    list_filter = ("language", ("passed_at", admin.EmptyFieldListFilter))
    search_fields = ("user__email", "user__pseudonym")
    list_select_related = ("user", "version")
