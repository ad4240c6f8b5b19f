"""Web Push (docs/notifications.md, "Web Push"): ``GET push/`` (is push on, the VAPID
public key), ``POST push/subscriptions/`` (a browser subscribes), ``DELETE
push/subscriptions/`` with ``{"endpoint"}`` (it unsubscribes)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat.api.base import ChatAPIView, document
from smartcampus_chat.api.serializers.push import (
    PushConfigSerializer,
    PushSubscriptionInputSerializer,
    PushSubscriptionSerializer,
    PushUnsubscribeSerializer,
)
from smartcampus_chat.queries.push_subscriptions import push_config
from smartcampus_chat.services.push_subscriptions import check_subscribe, check_unsubscribe


class PushConfigView(ChatAPIView):
    @document(
        tags=["notifications"],
        summary="Whether this site sends push notifications, and its public key",
        responses=PushConfigSerializer,
    )
    def get(self, request: Request) -> Response:
        config = push_config()
        return Response(
            PushConfigSerializer({"enabled": config.enabled, "public_key": config.public_key}).data
        )


class PushSubscriptionsView(ChatAPIView):
    error_statuses = {"post": ("409",)}

    @document(
        tags=["notifications"],
        summary="Subscribe this browser to push notifications",
        description=(
            "The body is the browser's PushSubscription.toJSON(). Subscribing the same "
            "endpoint again updates it (and moves it to the signed-in person). Errors: "
            "push_endpoint_not_allowed (not https to an accepted push service), "
            "invalid_push_keys, push_unavailable (409: push is off)."
        ),
        request=PushSubscriptionInputSerializer,
        responses={201: PushSubscriptionSerializer},
    )
    def post(self, request: Request) -> Response:
        params = PushSubscriptionInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        subscription = check_subscribe(
            request.user,
            data["endpoint"],
            data["keys"]["p256dh"],
            data["keys"]["auth"],
            request.headers.get("User-Agent", ""),
        )
        return Response(
            PushSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    @document(
        tags=["notifications"],
        summary="Unsubscribe a browser from push notifications",
        description=(
            'The body is {"endpoint": "..."}, the subscription\'s endpoint. Answers 204 '
            "whether or not that browser was subscribed (unsubscribing is idempotent)."
        ),
        request=PushUnsubscribeSerializer,
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        params = PushUnsubscribeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        check_unsubscribe(request.user, params.validated_data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)
