from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class AccountsConfig(AppConfig):
    name = "facecommons.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers import models, which cannot load before the app registry is ready
        from facecommons.accounts import receivers

        # The app's own model: every way of changing a password (allauth's change, set and reset
        # forms, the admin's password form, `manage.py changepassword`) ends in set_password + save.
        post_save.connect(receivers.revoke_tokens_on_password_change, sender=self.get_model("User"),
                          dispatch_uid="accounts-revoke-tokens-on-password-change")
        # allauth names the site in every e-mail ("[Face Commons] Please confirm ...") from the
        # sites framework's row, which Django creates as "example.com": keep it the platform's.
        post_migrate.connect(receivers.site_from_settings, sender=self, dispatch_uid="accounts-site-from-settings")
