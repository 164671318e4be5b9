"""Progress on the command line: the run's one-line bar (with the step's own message and its time left) and the
ingest's percentage line."""

from __future__ import annotations

import sys
import time

from engine.pipeline.executor import ProgressEvent


class ProgressBar:
    """A one-line bar on stderr with the step's own message (fold k of K, trials, rows) and an estimate of the
    time the step has left; when stderr is not a terminal, a line per step and, during a long step, its message
    at most every `every` seconds (a log that shows the run is alive)."""

    def __init__(self, stream=sys.stderr, width: int = 28, every: float = 15.0):
        self.stream, self.width, self.tty, self.last = stream, width, stream.isatty(), None
        self.every, self.step, self.step_started, self.logged = every, None, 0.0, 0.0

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.step != self.step:
            self.step, self.step_started, self.logged = event.step, now, now
        filled = int(round(event.fraction * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        left = step_time_left(event, now - self.step_started)
        eta = f" (~{_duration(left)} left in step)" if left is not None else ""
        text = f"[{bar}] {event.index + 1}/{event.total} {event.step}: {event.message}{eta}"
        if self.tty:
            self.stream.write("\r" + text[:160].ljust(160))
            if event.fraction >= 1.0:
                self.stream.write("\n")
        elif (event.step, event.message) != self.last and event.message in ("running", "cached"):
            self.stream.write(text + "\n")
        elif now - self.logged >= self.every and event.message not in ("done", "running", "cached"):
            self.stream.write(text + "\n")
            self.logged = now
        self.last = (event.step, event.message)
        self.stream.flush()


def step_time_left(event: ProgressEvent, elapsed: float) -> float | None:
    """Seconds the current step still needs at its pace so far (None until a twentieth of it is done)."""
    inside = min(max(event.fraction * event.total - event.index, 0.0), 1.0)
    if inside < 0.05 or inside >= 1.0 or elapsed < 2.0:
        return None
    return elapsed * (1.0 - inside) / inside


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class ProgressLine:
    """Ingest progress on stderr (only when it is a terminal: logs stay clean)."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream

    def __call__(self, fraction: float, message: str) -> None:
        if self.stream.isatty():
            end = "\n" if fraction >= 1.0 else ""
            self.stream.write(f"\r{message}: {fraction * 100:5.1f}%".ljust(60) + end)
            self.stream.flush()
