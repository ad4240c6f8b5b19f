"""Users as the chat shows them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class UserRefSerializer(serializers.Serializer):
    """A user as the chat shows them: the same fields as the protocol's ``UserRef``."""

    id = serializers.IntegerField(source="pk", read_only=True)
    username = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()

    def get_username(self, user: Any) -> str:
        return str(user.get_username())

    def get_name(self, user: Any) -> str:
        full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        return str(full_name or user.get_username())
