"""Web Push: the site's push configuration and a browser's subscription."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.domain.push import MAX_ENDPOINT_LENGTH


class PushConfigSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(
        help_text=_("Whether this site sends push notifications (NOTIFY_PUSH and its keys).")
    )
    public_key = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The VAPID public key, base64url: the applicationServerKey of "
            "PushManager.subscribe(). Null when push is off."
        ),
    )


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        help_text=_("The browser's P-256 public key, base64url (65 bytes, uncompressed)."),
    )
    auth = serializers.CharField(
        max_length=64,
        trim_whitespace=False,
        help_text=_("The browser's authentication secret, base64url (16 bytes)."),
    )


class PushSubscriptionInputSerializer(serializers.Serializer):
    """``PushSubscription.toJSON()`` as the browser gives it."""

    endpoint = serializers.CharField(
        max_length=MAX_ENDPOINT_LENGTH,
        trim_whitespace=False,
        help_text=_(
            "The push service's URL for this browser: https to a push service the site "
            "accepts (WEB_PUSH_ALLOWED_HOSTS)."
        ),
    )
    keys = PushKeysSerializer()
    # The browser's own name (PushSubscription.toJSON()).
    expirationTime = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text=_("Ignored: the push service says when a subscription is gone."),
    )


class PushSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_agent = serializers.CharField(help_text=_("The browser, as it named itself."))
    created_at = serializers.DateTimeField()
    last_success_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When a notification last reached this browser.")
    )


class PushUnsubscribeSerializer(serializers.Serializer):
    endpoint = serializers.CharField(
        max_length=MAX_ENDPOINT_LENGTH,
        trim_whitespace=False,
        help_text=_("The endpoint of the subscription to forget."),
    )
