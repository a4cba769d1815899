"""Signals other apps listen to (rewards reverse points, releases record withdrawals)."""

from django.dispatch import Signal

# Sent inside the transaction, before the rows go: kwargs contribution, actor.
contribution_removed = Signal()
# Sent when a contribution reaches approved/rejected through moderation: kwargs contribution.
contribution_status_changed = Signal()
# Sent after the transaction that stored a new upload commits: kwargs contribution_id (str).
# The pipeline app connects the receiver that enqueues processing.
contribution_received = Signal()
