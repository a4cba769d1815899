from facecommons.common.tunables import tunables
from facecommons.rewards.providers.base import LedgerProvider


class WebMonetizationProvider(LedgerProvider):
    """Web Monetization: visitors' browsers stream micro-payments to ``WEB_MONETIZATION_POINTER``.

    Every page carries ``<link rel="monetization" href=pointer>`` (base.html, through the site
    context processor). What arrives at the wallet is recorded by an admin, usually as one
    donation per statement period, with the wallet statement id as the reference.
    """

    id = "web_monetization"
    label = "Web Monetization (recorded from the wallet)"

    @staticmethod
    def payment_pointer() -> str:
        return tunables.WEB_MONETIZATION_POINTER
