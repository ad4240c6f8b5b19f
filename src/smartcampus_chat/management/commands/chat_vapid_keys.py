"""``manage.py chat_vapid_keys``: make a VAPID key pair for Web Push and print the two
settings (docs/notifications.md, "Web Push").

The public key is the browsers' ``applicationServerKey`` (base64url of the uncompressed
P-256 point, 65 bytes); the private key is base64url of its 32 raw bytes. Subscriptions
are bound to the public key: changing the pair makes every browser subscribe again.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_vapid_keys() -> tuple[str, str]:
    """A new key pair: ``(public, private)``, both base64url."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError as exc:  # pragma: no cover - the webpush extra brings it
        raise CommandError(
            "Web Push needs the webpush extra: pip install 'smartcampus-chat[webpush]'"
        ) from exc
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(public), b64url(private)


class Command(BaseCommand):
    help = "Make a VAPID key pair for Web Push and print the settings that use it."

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = make_vapid_keys()
        self.stdout.write(
            "# Web Push keys for SMARTCAMPUS_CHAT. Keep the private key secret (read it\n"
            "# from the environment, never commit it); a new pair makes every browser\n"
            "# subscribe again.\n"
            f'"WEB_PUSH_VAPID_PUBLIC_KEY": "{public}",\n'
            f'"WEB_PUSH_VAPID_PRIVATE_KEY": "{private}",\n'
        )
