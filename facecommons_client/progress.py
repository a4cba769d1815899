"""A one-line progress bar on stderr (only when it is a terminal, or when forced)."""

from __future__ import annotations

import sys
import threading
import time


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


class Bar:
    def __init__(self, total: int, *, label: str, enabled: bool | None = None) -> None:
        self.total, self.label, self.done = max(total, 0), label, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = self.last = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self.lock:
            self.done += n
            now = time.monotonic()
            if self.enabled and (now - self.last > 0.2 or self.done >= self.total):
                self.last = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        width = 30
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        rate = self.done / max(now - self.start, 1e-6)
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        sys.stderr.write(f"\r{self.label} [{bar}] {100 * frac:5.1f}% {_mb(self.done)} / {_mb(self.total)} "
                         f"{_mb(rate)}/s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            sys.stderr.write("\n")
