"""Registry of payment providers. Built in: "manual" and "web_monetization"."""

from __future__ import annotations

from facecommons.rewards.providers.base import PaymentProvider
from facecommons.rewards.providers.manual import ManualProvider
from facecommons.rewards.providers.web_monetization import WebMonetizationProvider

_REGISTRY: dict[str, PaymentProvider] = {}


class UnknownProvider(KeyError):
    pass


def register_provider(provider: PaymentProvider) -> PaymentProvider:
    if not isinstance(provider, PaymentProvider) or not provider.id:
        raise TypeError("a provider needs an id, a label and record_donation()")
    _REGISTRY[provider.id] = provider
    return provider


def get_provider(provider_id: str) -> PaymentProvider:
    try:
        return _REGISTRY[provider_id]
    except KeyError:
        raise UnknownProvider(provider_id) from None


def list_providers() -> list[PaymentProvider]:
    return list(_REGISTRY.values())


register_provider(ManualProvider())
register_provider(WebMonetizationProvider())

__all__ = ["PaymentProvider", "UnknownProvider", "get_provider", "list_providers", "register_provider"]
