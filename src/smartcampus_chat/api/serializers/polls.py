"""Polls: posting one (the ``poll`` of a message send) and a vote."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.serializers.fields import MAX_INTEGER
from smartcampus_chat.domain.polls import MAX_OPTION_LENGTH


class PollInputSerializer(serializers.Serializer):
    """A send's poll: the message's text is the question (docs/polls.md). The send's
    checks decide the rest (distinct options, how many, the closing time)."""

    options = serializers.ListField(
        child=serializers.CharField(max_length=MAX_OPTION_LENGTH, trim_whitespace=False),
        max_length=100,
        help_text=_("The answers, in order: 2 to POLL_MAX_OPTIONS, distinct."),
    )
    multiple = serializers.BooleanField(
        required=False, default=False, help_text=_("Voters may choose several options.")
    )
    anonymous = serializers.BooleanField(
        required=False, default=False, help_text=_("Nobody is shown who chose what.")
    )
    closes_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("When it closes by itself (in the future; null: when closed by hand)."),
    )


class PollVoteSerializer(serializers.Serializer):
    option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INTEGER),
        allow_empty=True,
        max_length=100,
        help_text=_("The chosen options (one unless multiple choice); empty withdraws the vote."),
    )
