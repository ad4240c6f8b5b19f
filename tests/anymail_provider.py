"""An e-mail provider through django-anymail, for the e-mail digest tests: anymail's own
test backend (``anymail.backends.test``), answering like a provider's API would for some
addresses: ``rejected@...`` is rejected (bounced before, on the provider's suppression
list), ``outage@...`` meets an API error (the provider is down)."""

from __future__ import annotations

from typing import Any

from anymail.backends.test import EmailBackend
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus


class ProviderBackend(EmailBackend):
    def post_to_esp(self, payload: Any, message: Any) -> Any:
        super().post_to_esp(payload, message)  # kept in mail.outbox, with its parameters
        if any(address.startswith("outage@") for address in payload.recipient_emails):
            raise AnymailAPIError("503 Service Unavailable: try again later")
        return {
            "recipient_status": {
                address: AnymailRecipientStatus(
                    message_id=f"test-{n}",
                    status="rejected" if address.startswith("rejected@") else "sent",
                )
                for n, address in enumerate(payload.recipient_emails)
            }
        }
