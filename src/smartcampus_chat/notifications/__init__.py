"""Delivery of notifications off the request and socket paths (docs/notifications.md):
the worker and one module per channel (``webpush``, ``email``)."""
