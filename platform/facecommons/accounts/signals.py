"""Signals of the accounts app."""

from django.dispatch import Signal

# Sent by account_withdraw inside its transaction, BEFORE the contributions are deleted:
# kwargs user, contribution_ids (list of UUIDs), withdrawn_at. Releases mark snapshots and
# write withdrawn.csv; rewards reverse points.
contributor_withdrawn = Signal()
