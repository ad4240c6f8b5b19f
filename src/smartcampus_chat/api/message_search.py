"""Message search: ``GET search/messages/?q=`` (docs/search.md), through
:func:`smartcampus_chat.services.check_search`, as on the socket."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ChatAPIView, document
from smartcampus_chat.api.serializers.message_search import SearchPageSerializer


def _param(name: str, description: str, **kwargs: Any) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.QUERY, description=description, **kwargs)


PARAMETERS = [
    _param(
        "q",
        'The search as typed: words, "phrases", -excluded, and the operators from:<username>, '
        "in:<room slug>, has:link, has:code, after:<YYYY-MM-DD>, before:<YYYY-MM-DD>.",
        required=True,
    ),
    _param("room", "Search this room only (its slug); else every room I joined."),
    _param("author", "Messages of this username only."),
    _param("after", "From this day on (YYYY-MM-DD, inclusive)."),
    _param("before", "Before this day (YYYY-MM-DD, exclusive)."),
    _param("has", "link or code (repeatable).", many=True),
    _param("order", "relevance (default) or newest.", enum=["relevance", "newest"]),
    _param("cursor", "The next_cursor of the previous page."),
    OpenApiParameter("limit", int, OpenApiParameter.QUERY, description="Results per page."),
]


class MessageSearchView(ChatAPIView):
    error_statuses = {"get": ("404",)}

    @document(
        tags=["messages"],
        summary="Search the messages I may read, best first, a page at a time",
        parameters=PARAMETERS,
        responses=SearchPageSerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        page = services.check_search(
            request.user,
            params.get("q", ""),
            room=params.get("room") or None,
            author=params.get("author") or None,
            after=params.get("after") or None,
            before=params.get("before") or None,
            has=tuple(params.getlist("has")),
            order=params.get("order") or "relevance",
            cursor=params.get("cursor") or None,
            limit=params.get("limit"),
        )
        url = request.build_absolute_uri()
        data = {
            "results": [hit.model_dump(mode="json") for hit in queries.hit_payloads(page)],
            "next": replace_query_param(url, "cursor", page.next_cursor)
            if page.next_cursor
            else None,
            "next_cursor": page.next_cursor,
        }
        return Response(data)
