"""Q&A mode: a question with its state, a question's state, my vote."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel
from rest_framework import serializers

from smartcampus_chat.api.shapes import ProtocolSerializer
from smartcampus_chat.protocol.payloads import EndorsementData, QuestionData, QuestionStateData


class EndorsementSerializer(ProtocolSerializer):
    """An endorsed answer: ``EndorsementData``."""

    shape = EndorsementData

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, EndorsementData)
        return instance


class QuestionStateSerializer(ProtocolSerializer):
    """A question's state, the ``question`` of ``question.updated``: ``QuestionStateData``."""

    shape = QuestionStateData
    help_texts = {"answers": _("Its replies still there.")}

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, QuestionStateData)
        return instance


class QuestionSerializer(ProtocolSerializer):
    """A question of the questions list: ``QuestionData``."""

    shape = QuestionData
    help_texts = {"voted": _("Whether I up-voted it.")}

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, QuestionData)
        return instance


class QuestionVoteSerializer(serializers.Serializer):
    """My up-vote of a question, and its count now."""

    message_id = serializers.IntegerField()
    voted = serializers.BooleanField()
    votes = serializers.IntegerField()
