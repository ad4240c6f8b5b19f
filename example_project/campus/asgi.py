"""ASGI entry point: HTTP through Django, WebSocket through Channels (one server)."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
# Initialise Django (apps, models) before importing code that uses the ORM.
django_asgi_app = get_asgi_application()
if settings.DEBUG:
    # Development only: let the ASGI server (uvicorn or daphne) serve static files too.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from smartcampus_chat.routing import TrustedOriginValidator, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin: scheme, host and port of the site itself or of CSRF_TRUSTED_ORIGINS. No
        # AuthMiddlewareStack: the chat finds each socket's user from its session cookie
        # itself, in batches, after the handshake (docs/integration.md).
        "websocket": TrustedOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
