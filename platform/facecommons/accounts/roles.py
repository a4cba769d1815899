"""Roles are Django groups. Everyone who signs up is a contributor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CONTRIBUTOR = "contributor", _("Contributor")
    MODERATOR = "moderator", _("Moderator")
    RESEARCHER = "researcher", _("Researcher")
    ADMIN = "admin", _("Admin")


ROLE_GROUPS = {r.value: r.label for r in Role}


def user_has_role(user: Any, role: Role | str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    role = Role(role)
    if role == Role.ADMIN and user.is_superuser:
        return True
    cache = getattr(user, "_role_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cache.add(Role.ADMIN.value)
        user._role_cache = cache
    return role.value in cache


def is_moderator(user: Any) -> bool:
    return user_has_role(user, Role.MODERATOR) or user_has_role(user, Role.ADMIN)


def is_admin(user: Any) -> bool:
    return user_has_role(user, Role.ADMIN)


def is_researcher(user: Any) -> bool:
    return user_has_role(user, Role.RESEARCHER)


def grant_role(user: Any, role: Role | str) -> None:
    role = Role(role)
    group, _ = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)
    if role == Role.ADMIN and not user.is_staff:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    if hasattr(user, "_role_cache"):
        del user._role_cache
