"""The unsubscribe link of the e-mail digests: no login, one click (RFC 8058).

GET (and HEAD) shows a confirmation with a button and changes nothing: mail scanners and link
previews follow links. POST turns the digests off: the page's button, and the mail
client's own one-click POST (``List-Unsubscribe=One-Click`` in the body, no session, no
CSRF token). That is why this view alone is exempt from CSRF: the signed token in the URL
is its protection (a forged or altered one is a 400), and what it does is harmless.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from smartcampus_chat import services
from smartcampus_chat.exceptions import ChatError
from smartcampus_chat.web.security import security_headers
from smartcampus_chat.web.views.common import error_response, page_context


@csrf_exempt
@security_headers
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        if request.method == "POST":
            services.check_unsubscribe(token)
        else:
            services.check_unsubscribe_token(token)
    except ChatError as exc:
        return error_response(request, exc)
    return _page(request, done=request.method == "POST")


def _page(request: HttpRequest, *, done: bool) -> HttpResponse:
    return render(request, "smartcampus_chat/unsubscribe.html", page_context(done=done))
