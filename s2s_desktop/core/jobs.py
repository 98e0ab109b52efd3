"""Cooperative cancellation shared by the engine, document readers and the GUI worker."""

from __future__ import annotations

import threading

from s2s_desktop.core.errors import Cancelled


class CancelToken:
    """Set from any thread; long jobs poll it between steps (and from CT2 callbacks)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def check(cancel: CancelToken | None) -> None:
    """Raise Cancelled if the (optional) token has been cancelled."""
    if cancel is not None:
        cancel.raise_if_cancelled()
