"""Delivery of notifications off the request path: the worker and its channels."""
