"""Signals other apps listen to (rewards reverse points, releases record withdrawals)."""

from django.dispatch import Signal

# Sent inside the transaction, before the rows go: kwargs contribution, actor.
contribution_removed = Signal()
# Sent when a contribution reaches approved/rejected through moderation: kwargs contribution.
contribution_status_changed = Signal()
