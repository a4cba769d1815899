"""The events table in docs/architecture.md is the truth about who reacts to what.

Compared at run time (after django.setup(), every AppConfig.ready() has connected its
receivers) with the registry of facecommons.common.events, not with a grep of the code.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction

from facecommons.common.events import Event, Phase, events

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["event", "emitted by", "phase", "listener", "what the listener does"]


def table_rows() -> list[dict[str, str]]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Domain events", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == COLUMNS, header
    rows = []
    for line in lines[2:]:
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


def resolve(dotted: str) -> object:
    """`app.module.name[.attr]` inside facecommons, imported."""
    parts = f"facecommons.{dotted}".split(".")
    for cut in range(len(parts) - 1, 1, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise LookupError(dotted)


def name_of(receiver: object) -> str:
    module = getattr(receiver, "__module__", "")
    assert module.startswith("facecommons."), f"{receiver!r} is connected from outside facecommons"
    return f"{module.removeprefix('facecommons.')}.{getattr(receiver, '__qualname__', '')}"


def connected() -> set[tuple[str, str]]:
    return {(event.name, name_of(r)) for event in events().values() for r in event.receivers}


def test_table_parses():
    rows = table_rows()
    assert len(rows) >= 10, "the events table is missing or unreadable"


def test_every_connection_is_in_the_table():
    listed = {(r["event"], r["listener"]) for r in table_rows()}
    missing = connected() - listed
    assert not missing, f"connected but not in docs/architecture.md: {sorted(missing)}"


def test_every_table_row_is_connected():
    stale = {(r["event"], r["listener"]) for r in table_rows()} - connected()
    assert not stale, f"in docs/architecture.md but not connected: {sorted(stale)}"


@pytest.mark.parametrize("row", table_rows(), ids=lambda r: f"{r['event']}->{r['listener']}")
def test_row_tells_the_truth(row):
    event = events()[row["event"]]
    assert event.phase == Phase(row["phase"])
    # The emitter's app defines the event in its events.py, and the emitter emits it.
    app = row["emitted by"].split(".")[0]
    assert getattr(resolve(f"{app}.events"), event.name) is event
    assert f"{event.name}.emit(" in inspect.getsource(resolve(row["emitted by"])), row["emitted by"]
    assert callable(resolve(row["listener"]))


def test_every_event_is_defined_in_an_apps_events_module():
    defined = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("facecommons."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.events")
        except ModuleNotFoundError:
            continue
        defined |= {e.name: e for e in vars(module).values() if isinstance(e, Event)}
    assert defined == events()
    assert all(e.receivers for e in defined.values()), "an event nobody listens to"


@pytest.mark.django_db(transaction=True)
def test_phases_and_payload():
    seen = []
    event = Event("test_only_event", phase=Phase.ON_COMMIT, payload={"n": "a number"}, doc="test")
    try:
        _check(event, seen)
    finally:
        from facecommons.common import events as module

        del module._registry["test_only_event"]


def _check(event, seen):

    def receiver(*, n):
        seen.append(n)

    event.connect(receiver)
    event.connect(receiver)  # connecting twice is connecting once
    with pytest.raises(TypeError):
        event.emit(m=1)
    with transaction.atomic():
        event.emit(n=1)
        assert seen == []  # on commit: not before
    assert seen == [1]
    try:
        with transaction.atomic():
            event.emit(n=2)
            raise RuntimeError
    except RuntimeError:
        pass
    assert seen == [1]  # nothing after a rollback
    event.disconnect(receiver)
    event.emit(n=3)
    assert seen == [1]
