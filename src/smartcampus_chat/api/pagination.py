"""Pagination of the API's lists.

Room, member and user lists use limit/offset pages. A room's history uses keyset pages on
the per-room message number (``seq``), which cost the same deep in a room as at its end.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.validation import clean_int
from smartcampus_chat.queries.history import HistoryPage


class LimitOffsetPage(LimitOffsetPagination):
    """``?limit=&offset=``; the default and the cap are PAGE_SIZE and MAX_PAGE_SIZE."""

    def __init__(self) -> None:
        # Read per request (a paginator is made per view), so settings changes apply.
        self.default_limit = app_settings.PAGE_SIZE
        self.max_limit = app_settings.MAX_PAGE_SIZE

    def get_limit(self, request: Request) -> int:
        """``?limit=``: plain digits, capped by MAX_PAGE_SIZE; malformed is a 400 (DRF's
        own parsing takes "٣" for 3 and lets huge offsets reach the database)."""
        value = request.query_params.get(self.limit_query_param)
        if value is None:
            return app_settings.PAGE_SIZE
        limit = clean_int(value, self.limit_query_param, minimum=1)
        return min(limit, app_settings.MAX_PAGE_SIZE)

    def get_offset(self, request: Request) -> int:
        value = request.query_params.get(self.offset_query_param)
        if value is None:
            return 0
        return clean_int(value, self.offset_query_param)


class SequencePagination(BasePagination):
    """Keyset pages of a room's messages, oldest first within a page.

    ``?before=N`` gives the page just older than message N, ``?after=N`` the page just newer;
    neither gives the latest page. ``previous``/``next`` are the URLs of the neighbouring
    pages (null when there is none) and ``first_seq``/``last_seq`` the numbers they use.
    """

    def paginated_response(
        self,
        data: Any,
        *,
        request: Request,
        page: HistoryPage,
        before: int | None = None,
        after: int | None = None,
    ) -> Response:
        first = page.messages[0].seq if page.messages else None
        last = page.messages[-1].seq if page.messages else None
        # An empty page still has neighbours: the cursors then come from the request.
        older = first if first is not None else (after + 1 if after is not None else None)
        newer = last if last is not None else (max(0, before - 1) if before is not None else None)
        url = remove_query_param(
            remove_query_param(request.build_absolute_uri(), "before"), "after"
        )
        previous = None
        if page.has_before and older is not None:
            previous = replace_query_param(url, "before", older)
        following = None
        if page.has_after and newer is not None:
            following = replace_query_param(url, "after", newer)
        return Response(
            {
                "previous": previous,
                "next": following,
                "has_before": page.has_before,
                "has_after": page.has_after,
                "first_seq": first,
                "last_seq": last,
                "purged_through_seq": page.purged_through_seq,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        nullable_url = {"type": "string", "format": "uri", "nullable": True}
        nullable_int = {"type": "integer", "nullable": True}
        return {
            "type": "object",
            "required": [
                "previous",
                "next",
                "has_before",
                "has_after",
                "first_seq",
                "last_seq",
                "purged_through_seq",
                "results",
            ],
            "properties": {
                "previous": {**nullable_url, "description": str(_("URL of the older page."))},
                "next": {**nullable_url, "description": str(_("URL of the newer page."))},
                "has_before": {"type": "boolean"},
                "has_after": {"type": "boolean"},
                "first_seq": nullable_int,
                "last_seq": nullable_int,
                "purged_through_seq": {
                    "type": "integer",
                    "description": str(
                        _(
                            "No message numbered up to this exists any more (the "
                            "retention purge deleted them)."
                        )
                    ),
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # The view documents its query serializer (before, after, limit) itself.
        return []
