"""Keeps a process's trigger index fresh when no DSN receiver sits on its hot path.

Model signals get a DSN receiver only for the models triggers watch, so a process that
saves only other models would never look at the configuration version, and would miss
a trigger added elsewhere for a model it does save. The heartbeat closes that gap
without taxing saves: once per ``DSN["REFRESH_INTERVAL"]`` a timer connects one
receiver to those signals; the next signal runs it, it disconnects itself and checks the
version (one query, as the refresh interval allows). The timer thread only connects a
receiver; it never touches the database.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from django.dispatch import Signal

from .matching import TriggerIndex, holder


class Heartbeat:
    def __init__(self) -> None:
        self._signals: dict[str, Signal] = {}
        self._armed = True  # nothing was checked yet: the first signal must check
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()

    def watch(self, name: str, signal: Signal) -> None:
        with self._lock:
            self._signals[name] = signal
            if self._armed:
                self._connect(name, signal)

    def unwatch(self, name: str) -> None:
        with self._lock:
            signal = self._signals.pop(name, None)
            if signal is not None:
                signal.disconnect(dispatch_uid=self._uid(name))

    def arm(self) -> None:
        with self._lock:
            self._armed = True
            for name, signal in self._signals.items():
                self._connect(name, signal)

    def schedule(self, delay: float) -> None:
        """Arm after ``delay`` seconds (at once when ``delay`` is 0)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if delay <= 0:
                self.arm()
                return
            self._timer = threading.Timer(delay, self.arm)
            self._timer.daemon = True
            self._timer.name = "dsn-heartbeat"
            self._timer.start()

    def beat(self, sender: Any, **kwargs: Any) -> None:
        with self._lock:
            if not self._armed:
                return
            self._armed = False
            for name, signal in self._signals.items():
                signal.disconnect(dispatch_uid=self._uid(name))
        holder.current()
        # current() schedules the next beat when it refreshed; when it did not (the timer
        # fired a hair early), schedule the rest of the wait here.
        self.schedule(max(0.0, holder.next_check - time.monotonic()))

    def _connect(self, name: str, signal: Signal) -> None:
        signal.connect(self.beat, weak=False, dispatch_uid=self._uid(name))

    @staticmethod
    def _uid(name: str) -> str:
        return f"dsn_core:heartbeat:{name}"


heartbeat = Heartbeat()


def _after_refresh(index: TriggerIndex, delay: float) -> None:
    heartbeat.schedule(delay)


holder.listeners.append(_after_refresh)


def _after_fork_in_child() -> None:
    """A forked child (a pre-fork server's worker) has no timer thread, and may have been
    forked while another thread held a lock: start clean and check at once."""
    from .receivers import model_receivers

    heartbeat._lock = threading.RLock()
    heartbeat._timer = None
    model_receivers._lock = threading.RLock()
    for signal in heartbeat._signals.values():
        signal.lock = threading.Lock()  # Django's own, held if the timer was connecting
    holder.reset_after_fork()
    heartbeat.arm()


os.register_at_fork(after_in_child=_after_fork_in_child)
