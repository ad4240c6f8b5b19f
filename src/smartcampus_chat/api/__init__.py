"""The REST API door (Django REST framework): thin views over the services and queries.

Mounted by the app's URLconf under ``api/`` (``/chat/api/...`` for a host that includes
``smartcampus_chat.urls`` at ``chat/``). See docs/api.md.
"""
