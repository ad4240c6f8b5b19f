"""Delivering notifications outside the chat's pages: Web Push and e-mail digests.

The notify step (:mod:`smartcampus_chat.services.notifications`) writes the deliveries;
:func:`deliver_due` claims those that are due and hands them to their channel
(:mod:`.webpush`, :mod:`.email`), off the request and socket paths: in a thread of each
web process (``NOTIFY_WORKER = "thread"``), in ``manage.py chat_notifications``, or in the
host's task queue (docs/notifications.md, "Running the worker").
"""

from smartcampus_chat.notifications.worker import deliver_due, remind_due

__all__ = ["deliver_due", "remind_due"]
