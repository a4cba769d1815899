"""The django-allauth strings people meet on our pages and e-mails, listed so that extraction keeps them.

allauth ships no catalogue for Hindi (hi) or Swahili (sw). Our catalogues (LOCALE_PATHS) are merged
with allauth's and win, so a translation of allauth's exact msgid in locale/<lang>/ fills the gap.
For es, pt_BR, fr and ar allauth's own translations of these msgids are copied (the completeness
test wants every extracted entry translated), with one repair: allauth's Arabic recovery-codes
plural reads "6(unused_count)s" where the count belongs.
But `make messages` extracts from our sources only and runs with --no-obsolete: a msgid that
appears only inside allauth would be dropped from our .po files. Listing each one here with
gettext_noop (ngettext_lazy for the plural) keeps it, and the completeness test
(tests/common/test_i18n_complete.py) then requires its translation in every shipped language.

Each msgid is allauth's own text, character for character (placeholders included): a changed
character is a different msgid and would never be looked up. The list covers what a contributor,
researcher or moderator can meet with our settings (e-mail login, mandatory verification, TOTP and
recovery codes): allauth's form labels and errors, its adapter's messages, the flash messages,
the e-mails, and the account and MFA pages we do not override in templates/. Username, phone,
login-code, passkey, WebAuthn and social-account strings are left out: those features are off.
Django's password validators, which speak on the same forms, are listed for the same reason
(DJANGO_PASSWORD_*). After an upgrade of allauth or Django, tests/accounts/test_allauth_language.py
names any msgid listed here that is no longer theirs.
Nothing imports this module at run time.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

ALLAUTH_MSGIDS: tuple[str, ...] = (
    # account/adapter.py
    gettext_noop('This account is currently inactive.'),
    # account/adapter.py
    gettext_noop('You cannot remove your primary email address.'),
    # account/adapter.py
    gettext_noop('This email address is already associated with this account.'),
    # account/adapter.py
    gettext_noop('The email address and/or password you specified are not correct.'),
    # account/adapter.py
    gettext_noop('A user is already registered with this email address.'),
    # account/adapter.py
    gettext_noop('Please type your current password.'),
    # account/adapter.py, mfa/adapter.py
    gettext_noop('Incorrect code.'),
    # account/adapter.py
    gettext_noop('Incorrect password.'),
    # account/adapter.py
    gettext_noop('Invalid or expired key.'),
    # account/adapter.py
    gettext_noop('Invalid login.'),
    # account/adapter.py
    gettext_noop('The password reset token was invalid.'),
    # account/adapter.py
    gettext_noop('You cannot add more than %d email addresses.'),
    # account/adapter.py
    gettext_noop('Too many failed login attempts. Try again later.'),
    # account/adapter.py
    gettext_noop('The email address is not assigned to any user account.'),
    # account/adapter.py, templates/account/messages/unverified_primary_email.txt
    gettext_noop('Your primary email address must be verified.'),
    # account/adapter.py
    gettext_noop('The new value must be different from the current one.'),
    # account/adapter.py
    gettext_noop('Be patient, you are sending too many requests.'),
    # account/fields.py, account/forms.py, idp/oidc/forms.py
    gettext_noop('Email'),
    # account/fields.py
    gettext_noop('Email address'),
    # account/forms.py
    gettext_noop('You must type the same password each time.'),
    # account/forms.py
    gettext_noop('Password'),
    # account/forms.py
    gettext_noop('Remember Me'),
    # account/forms.py
    gettext_noop('Forgot your password?'),
    # account/forms.py
    gettext_noop('Email (again)'),
    # account/forms.py
    gettext_noop('Email address confirmation'),
    # account/forms.py
    gettext_noop('You must type the same email each time.'),
    # account/forms.py
    gettext_noop('Password (again)'),
    # account/forms.py
    gettext_noop('Current Password'),
    # account/forms.py
    gettext_noop('New Password'),
    # account/forms.py
    gettext_noop('New Password (again)'),
    # account/forms.py, idp/oidc/forms.py, mfa/base/forms.py, mfa/totp/forms.py, templates/idp/oidc/device_authoriza
    gettext_noop('Code'),
    # mfa/adapter.py
    gettext_noop('You cannot add an email address to an account protected by two-factor authentication.'),
    # mfa/adapter.py
    gettext_noop('You cannot deactivate two-factor authentication.'),
    # mfa/adapter.py
    gettext_noop('You cannot generate recovery codes without having two-factor authentication enabled.'),
    # mfa/adapter.py
    gettext_noop('You cannot activate two-factor authentication until you have verified your email address.'),
    # mfa/totp/forms.py
    gettext_noop('Authenticator code'),
    # socialaccount/providers/dummy/templates/dummy/authenticate_form.html, templates/account/base_confirm_code.html
    gettext_noop('Cancel'),
    # templates/account/base_confirm_code.html, templates/account/email_confirm.html, templates/account/reauthentica
    gettext_noop('Confirm'),
    # templates/account/base_reauthenticate.html
    gettext_noop('Confirm Access'),
    # templates/account/base_reauthenticate.html
    gettext_noop('Please reauthenticate to safeguard your account.'),
    # templates/account/base_reauthenticate.html, templates/mfa/authenticate.html
    gettext_noop('Alternative options'),
    # templates/account/confirm_login_code.html, templates/account/login.html, templates/account/request_login_code.
    gettext_noop('Sign In'),
    # templates/account/confirm_password_reset_code.html, templates/account/email/password_reset_subject.txt, templa
    gettext_noop('Password Reset'),
    # templates/account/email.html
    gettext_noop('Email Addresses'),
    # templates/account/email.html
    gettext_noop('The following email addresses are associated with your account:'),
    # templates/account/email.html
    gettext_noop('Verified'),
    # templates/account/email.html
    gettext_noop('Unverified'),
    # templates/account/email.html
    gettext_noop('Primary'),
    # templates/account/email.html
    gettext_noop('Make Primary'),
    # templates/account/email.html, templates/account/email_change.html, templates/account/phone_change.html
    gettext_noop('Re-send Verification'),
    # templates/account/email.html, templates/mfa/webauthn/authenticator_confirm_delete.html, templates/mfa/webauthn
    gettext_noop('Remove'),
    # templates/account/email.html
    gettext_noop('Add Email Address'),
    # templates/account/email.html
    gettext_noop('Add Email'),
    # templates/account/email.html
    gettext_noop('Do you really want to remove the selected email address?'),
    # templates/account/email/account_already_exists_message.txt
    gettext_noop('You are receiving this email because you or someone else tried to signup for an\naccount using email address:\n\n%(email)s\n\nHowever, an account using that email address already exists.  In case you have\nforgotten about this, please use the password forgotten procedure to recover\nyour account:\n\n%(password_reset_url)s'),
    # templates/account/email/account_already_exists_subject.txt
    gettext_noop('Account Already Exists'),
    # templates/account/email/base_message.txt
    gettext_noop('Hello from %(site_name)s!'),
    # templates/account/email/base_message.txt
    gettext_noop('Thank you for using %(site_name)s!\n%(site_domain)s'),
    # templates/account/email/base_notification.txt
    gettext_noop('You are receiving this mail because the following change was made to your account:'),
    # templates/account/email/base_notification.txt
    gettext_noop('If you do not recognize this change then please take proper security precautions immediately. The change to your account originates from:\n\n- IP address: %(ip)s\n- Browser: %(user_agent)s\n- Date: %(timestamp)s'),
    # templates/account/email/email_changed_message.txt
    gettext_noop('Your email has been changed from %(from_email)s to %(to_email)s.'),
    # templates/account/email/email_changed_subject.txt
    gettext_noop('Email Changed'),
    # templates/account/email/email_confirm_message.txt
    gettext_noop('Your email has been confirmed.'),
    # templates/account/email/email_confirm_subject.txt
    gettext_noop('Email Confirmation'),
    # templates/account/email/email_confirmation_message.txt
    gettext_noop("You're receiving this email because user %(user_display)s has given your email address to register an account on %(site_domain)s."),
    # templates/account/email/email_confirmation_message.txt
    gettext_noop('To confirm this is correct, go to %(activate_url)s'),
    # templates/account/email/email_confirmation_subject.txt
    gettext_noop('Please Confirm Your Email Address'),
    # templates/account/email/email_deleted_message.txt
    gettext_noop('Email address %(deleted_email)s has been removed from your account.'),
    # templates/account/email/email_deleted_subject.txt
    gettext_noop('Email Removed'),
    # templates/account/email/login_code_message.txt, templates/account/email/password_reset_code_message.txt, templ
    gettext_noop('This mail can be safely ignored if you did not initiate this action.'),
    # templates/account/email/password_changed_message.txt
    gettext_noop('Your password has been changed.'),
    # templates/account/email/password_changed_subject.txt
    gettext_noop('Password Changed'),
    # templates/account/email/password_reset_key_message.txt
    gettext_noop("You're receiving this email because you or someone else has requested a password reset for your user account.\nIt can be safely ignored if you did not request a password reset. Click the link below to reset your password."),
    # templates/account/email/password_reset_key_subject.txt
    gettext_noop('Password Reset Email'),
    # templates/account/email/password_reset_message.txt
    gettext_noop('Your password has been reset.'),
    # templates/account/email/password_set_message.txt
    gettext_noop('Your password has been set.'),
    # templates/account/email/password_set_subject.txt
    gettext_noop('Password Set'),
    # templates/account/email/unknown_account_message.txt
    gettext_noop('You are receiving this email because you, or someone else, tried to access an account with email %(email)s. However, we do not have any record of such an account in our database.'),
    # templates/account/email/unknown_account_message.txt
    gettext_noop('If it was you, you can sign up for an account using the link below.'),
    # templates/account/email/unknown_account_subject.txt
    gettext_noop('Unknown Account'),
    # templates/account/email_change.html
    gettext_noop('Email Address'),
    # templates/account/email_change.html
    gettext_noop('Current email'),
    # templates/account/email_change.html
    gettext_noop('Changing to'),
    # templates/account/email_change.html
    gettext_noop('Your email address is still pending verification.'),
    # templates/account/email_change.html
    gettext_noop('Cancel Change'),
    # templates/account/email_change.html, templates/account/phone_change.html
    gettext_noop('Change to'),
    # templates/account/email_change.html, templates/allauth/layouts/base.html
    gettext_noop('Change Email'),
    # templates/account/email_confirm.html, templates/account/messages/email_confirmation_failed.txt
    gettext_noop('Unable to confirm %(email)s because it is already confirmed by a different account.'),
    # templates/account/logout.html, templates/allauth/layouts/base.html, templates/idp/oidc/logout.html, templates/
    gettext_noop('Sign Out'),
    # templates/account/logout.html, templates/idp/oidc/logout.html
    gettext_noop('Are you sure you want to sign out?'),
    # templates/account/messages/cannot_delete_primary_email.txt
    gettext_noop('You cannot remove your primary email address (%(email)s).'),
    # templates/account/messages/email_confirmation_sent.txt
    gettext_noop('Confirmation email sent to %(email)s.'),
    # templates/account/messages/email_confirmed.txt
    gettext_noop('You have confirmed %(email)s.'),
    # templates/account/messages/email_deleted.txt
    gettext_noop('Removed email address %(email)s.'),
    # templates/account/messages/logged_in.txt
    gettext_noop('Successfully signed in as %(name)s.'),
    # templates/account/messages/logged_out.txt
    gettext_noop('You have signed out.'),
    # templates/account/messages/password_changed.txt
    gettext_noop('Password successfully changed.'),
    # templates/account/messages/password_set.txt
    gettext_noop('Password successfully set.'),
    # templates/account/messages/primary_email_set.txt
    gettext_noop('Primary email address set.'),
    # templates/account/password_change.html, templates/account/password_reset_from_key.html, templates/account/pass
    gettext_noop('Change Password'),
    # templates/account/password_change.html
    gettext_noop('Forgot Password?'),
    # templates/account/password_reset_done.html
    gettext_noop('We have sent you an email. If you have not received it please check your spam folder. Otherwise contact us if you do not receive it in a few minutes.'),
    # templates/account/password_reset_from_key.html
    gettext_noop('Bad Token'),
    # templates/account/password_reset_from_key.html
    gettext_noop('The password reset link was invalid, possibly because it has already been used.  Please request a <a href="%(passwd_reset_url)s">new password reset</a>.'),
    # templates/account/password_reset_from_key_done.html
    gettext_noop('Your password is now changed.'),
    # templates/account/password_set.html
    gettext_noop('Set Password'),
    # templates/account/reauthenticate.html
    gettext_noop('Enter your password:'),
    # templates/account/snippets/already_logged_in.html
    gettext_noop('Note'),
    # templates/account/snippets/already_logged_in.html
    gettext_noop('You are already logged in as %(user_display)s.'),
    # templates/allauth/layouts/base.html, templates/mfa/authenticate.html, templates/mfa/index.html
    gettext_noop('Two-Factor Authentication'),
    # templates/mfa/authenticate.html
    gettext_noop('Your account is protected by two-factor authentication. Please enter an authenticator code:'),
    # templates/mfa/email/recovery_codes_generated_message.txt
    gettext_noop('A new set of Two-Factor Authentication recovery codes has been generated.'),
    # templates/mfa/email/recovery_codes_generated_subject.txt
    gettext_noop('New Recovery Codes Generated'),
    # templates/mfa/email/totp_activated_message.txt, templates/mfa/messages/totp_activated.txt
    gettext_noop('Authenticator app activated.'),
    # templates/mfa/email/totp_activated_subject.txt
    gettext_noop('Authenticator App Activated'),
    # templates/mfa/email/totp_deactivated_message.txt, templates/mfa/messages/totp_deactivated.txt
    gettext_noop('Authenticator app deactivated.'),
    # templates/mfa/email/totp_deactivated_subject.txt
    gettext_noop('Authenticator App Deactivated'),
    # templates/mfa/index.html, templates/mfa/totp/base.html
    gettext_noop('Authenticator App'),
    # templates/mfa/index.html
    gettext_noop('Authentication using an authenticator app is active.'),
    # templates/mfa/index.html
    gettext_noop('An authenticator app is not active.'),
    # templates/mfa/index.html, templates/mfa/totp/deactivate_form.html
    gettext_noop('Deactivate'),
    # templates/mfa/index.html, templates/mfa/totp/activate_form.html
    gettext_noop('Activate'),
    # templates/mfa/index.html, templates/mfa/recovery_codes/base.html, templates/mfa/recovery_codes/generate.html,
    gettext_noop('Recovery Codes'),
    # templates/mfa/index.html
    gettext_noop('No recovery codes set up.'),
    # templates/mfa/index.html
    gettext_noop('View'),
    # templates/mfa/index.html
    gettext_noop('Download'),
    # templates/mfa/index.html, templates/mfa/recovery_codes/generate.html
    gettext_noop('Generate'),
    # templates/mfa/messages/recovery_codes_generated.txt
    gettext_noop('A new set of recovery codes has been generated.'),
    # templates/mfa/messages/recovery_codes_generated.txt
    gettext_noop("Save them  in a secure location now — they won't be shown again."),
    # templates/mfa/reauthenticate.html
    gettext_noop('Enter an authenticator code:'),
    # templates/mfa/recovery_codes/generate.html
    gettext_noop('You are about to generate a new set of recovery codes for your account.'),
    # templates/mfa/recovery_codes/generate.html
    gettext_noop('This action will invalidate your existing codes.'),
    # templates/mfa/recovery_codes/generate.html
    gettext_noop('Are you sure?'),
    # templates/mfa/recovery_codes/index.html
    gettext_noop('Unused codes'),
    # templates/mfa/recovery_codes/index.html
    gettext_noop('Download codes'),
    # templates/mfa/recovery_codes/index.html
    gettext_noop('Generate new codes'),
    # templates/mfa/recovery_codes/index.html
    gettext_noop('I have saved my recovery codes'),
    # templates/mfa/totp/activate_form.html
    gettext_noop('Activate Authenticator App'),
    # templates/mfa/totp/activate_form.html
    gettext_noop('To protect your account with two-factor authentication, scan the QR code below with your authenticator app. Then, input the verification code generated by the app below.'),
    # templates/mfa/totp/activate_form.html
    gettext_noop('Authenticator secret'),
    # templates/mfa/totp/activate_form.html
    gettext_noop('You can store this secret and use it to reinstall your authenticator app at a later time.'),
    # templates/mfa/totp/deactivate_form.html
    gettext_noop('Deactivate Authenticator App'),
    # templates/mfa/totp/deactivate_form.html
    gettext_noop('You are about to deactivate authenticator app based authentication. Are you sure?'),
    # account/adapter.py
    gettext_noop('Use your password'),
    # account/adapter.py
    gettext_noop('Use authenticator app or code'),
)

# Plural entries are looked up by their singular and plural together, so they are extracted from
# an ngettext call; xgettext reads only literals there, hence the pair is written out twice
# (tests/accounts/test_allauth_language.py checks both against allauth's catalogue).
ALLAUTH_PLURALS: tuple[tuple[str, str], ...] = (
    # templates/mfa/index.html, templates/mfa/recovery_codes/index.html
    ("There is %(unused_count)s out of %(total_count)s recovery codes available.",
     "There are %(unused_count)s out of %(total_count)s recovery codes available."),
)
# Django's own password validators speak on allauth's sign-up, password change and reset forms;
# Django's Hindi catalogue lacks them, and its Swahili (and, for the too-short error, Arabic)
# entries carry msgids older than the code's (a straight apostrophe, %(min_length)d for %d).
DJANGO_PASSWORD_MSGIDS: tuple[str, ...] = (
    # django/contrib/auth/password_validation.py
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("This password is too common."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("Your password can’t be entirely numeric."),
)
DJANGO_PASSWORD_PLURALS: tuple[tuple[str, str], ...] = (
    ("This password is too short. It must contain at least %d character.",
     "This password is too short. It must contain at least %d characters."),
    ("Your password must contain at least %(min_length)d character.",
     "Your password must contain at least %(min_length)d characters."),
)
_PLURAL_CALLS = (
    ngettext_lazy("This password is too short. It must contain at least %d character.",
                  "This password is too short. It must contain at least %d characters.", "min_length"),
    ngettext_lazy("Your password must contain at least %(min_length)d character.",
                  "Your password must contain at least %(min_length)d characters.", "min_length"),
    ngettext_lazy("There is %(unused_count)s out of %(total_count)s recovery codes available.",
                  "There are %(unused_count)s out of %(total_count)s recovery codes available.", "unused_count"),
)
