"""Message search: a result (the protocol's ``SearchHitData``) and a page of them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel
from rest_framework import serializers

from smartcampus_chat.api.shapes import ProtocolSerializer
from smartcampus_chat.protocol.payloads import SearchHitData, SearchRoomRef


class SearchRoomSerializer(ProtocolSerializer):
    shape = SearchRoomRef
    help_texts = {"title": _("The room as the searcher names it.")}

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, SearchRoomRef)
        return instance


class SearchHitSerializer(ProtocolSerializer):
    """One result, identical to an item of the ``search.results`` frame's ``results``."""

    shape = SearchHitData
    help_texts = {
        "snippet_html": _(
            "Escaped text around the searched words, each in <mark>; no other markup."
        ),
        "url": _("The message in its room (the page scrolls to it)."),
    }

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, SearchHitData)
        return instance


class SearchPageSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True, help_text=_("Best first (or newest first)."))
    next = serializers.CharField(
        allow_null=True, help_text=_("URL of the next page (null: this is the last).")
    )
    next_cursor = serializers.CharField(
        allow_null=True, help_text=_("The next page's cursor (the next URL's cursor=).")
    )
