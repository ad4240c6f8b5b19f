"""Waking background workers of this process from the code that gives them work.

A service that leaves work for a worker (notifications to deliver) calls :func:`wake`;
the worker, registered by the app at start-up (:func:`register`), is started on the first
wake-up and waits on its :class:`threading.Event` between rounds. A host that runs the
work elsewhere (a task queue: ``NOTIFY_ENQUEUE``) registers nothing here: its callable is
called instead. The services stay ignorant of who does the work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: The notification delivery worker (:mod:`smartcampus_chat.notifications`).
NOTIFICATIONS = "notifications"

_lock = threading.Lock()
_starters: dict[str, Callable[[], None]] = {}
_events: dict[str, threading.Event] = {}


def event(name: str) -> threading.Event:
    """The event the worker ``name`` waits on."""
    with _lock:
        found = _events.get(name)
        if found is None:
            found = _events[name] = threading.Event()
        return found


def register(name: str, wake: Callable[[], None]) -> None:
    """``wake`` is called on each :func:`wake` of ``name`` (it starts the worker if need be
    and sets :func:`event`, or hands the work to a task queue)."""
    with _lock:
        _starters[name] = wake


def wake(name: str) -> None:
    """Tell the worker ``name`` there is work. Never raises: the caller's work is done."""
    waker = _starters.get(name)
    try:
        if waker is None:
            event(name).set()
        else:
            waker()
    except Exception:
        logger.exception("could not wake the %s worker", name)
