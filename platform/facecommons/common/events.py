"""Domain events: the one way an app reacts to what happened in another.

An app that emits defines its events in its own ``events.py``; a receiving app connects its
receivers in its ``AppConfig.ready()``; ``docs/architecture.md`` lists every connection
(tests/common/test_events.py checks the table against this registry).

Each event has a fixed payload (keyword arguments, documented) and a transaction phase:

* ``in transaction``: receivers run at once, inside the emitter's transaction, before it
  commits. What they write commits or rolls back with the change; an exception they raise
  undoes it. Used where the receiver must see rows that are about to be deleted.
* ``on commit``: receivers run after the emitter's transaction commits (at once when there
  is none), so a task they enqueue sees the committed rows; nothing runs if it rolls back.

Receivers are called as ``receiver(**payload)`` in the order they were connected (the order
of ``INSTALLED_APPS``). Unlike Django signals, an event is never sent for a model save: it is
emitted by the service that makes the change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from django.db import transaction

Receiver = Callable[..., None]


class Phase(enum.StrEnum):
    IN_TRANSACTION = "in transaction"
    ON_COMMIT = "on commit"


_registry: dict[str, Event] = {}


class Event:
    """A named domain event. ``payload`` maps each keyword argument to what it holds."""

    def __init__(self, name: str, *, phase: Phase, payload: dict[str, str], doc: str) -> None:
        if name in _registry:
            raise ValueError(f"event {name!r} is defined twice")
        self.name, self.phase, self.payload, self.doc = name, phase, dict(payload), doc
        self._receivers: list[Receiver] = []
        _registry[name] = self

    def __repr__(self) -> str:
        return f"<Event {self.name} ({self.phase})>"

    def emit(self, **payload: Any) -> None:
        """Send the event to every receiver, now or after commit according to ``phase``.

        The payload must be exactly the documented keywords (a TypeError otherwise).
        """
        if set(payload) != set(self.payload):
            raise TypeError(f"{self.name}: payload {sorted(payload)} is not {sorted(self.payload)}")
        if self.phase is Phase.ON_COMMIT:
            transaction.on_commit(lambda: self._dispatch(payload))
        else:
            self._dispatch(payload)

    def _dispatch(self, payload: dict[str, Any]) -> None:
        for receiver in list(self._receivers):
            receiver(**payload)

    def connect(self, receiver: Receiver) -> None:
        """Add ``receiver`` (once: connecting it again does nothing)."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)

    def disconnect(self, receiver: Receiver) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return tuple(self._receivers)


def events() -> dict[str, Event]:
    """Every defined event by name (those whose ``events`` module has been imported)."""
    return dict(_registry)
