from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "facecommons.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account import signals as allauth_signals

        from facecommons.accounts import receivers

        for signal in (allauth_signals.password_changed, allauth_signals.password_set,
                       allauth_signals.password_reset):
            signal.connect(receivers.revoke_tokens_on_password_change,
                           dispatch_uid=f"accounts-revoke-tokens-{id(signal)}")
