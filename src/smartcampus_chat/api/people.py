"""People: find active users (to open a private conversation with one)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat import queries
from smartcampus_chat.api.base import ChatAPIView, SearchFilter, document
from smartcampus_chat.api.pagination import LimitOffsetPage
from smartcampus_chat.api.shapes import UserRefSerializer


@extend_schema(tags=["users"])
class UserViewSet(ChatAPIView, viewsets.GenericViewSet):
    pagination_class = LimitOffsetPage
    serializer_class = UserRefSerializer
    filter_backends = [SearchFilter]

    @property
    def search_fields(self) -> list[str]:
        return queries.people_search_fields()

    def get_queryset(self) -> QuerySet[Any]:
        return queries.active_users(self.request.user)

    @document(summary="Find active users (to open a conversation)")
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        return self.get_paginated_response(UserRefSerializer(page, many=True).data)
