"""The campus portal of issue #17 (tests/portal: an e-mail login, its own layout with other
block names, a courses app, the chat under ``/messages/``), run under uvicorn with a Redis
layer, the WebSocket routes under another prefix (``WS_PREFIX``) and, on Django 6, the
host's own Content Security Policy (``SECURE_CSP``) on every chat page, as
docs/integration.md says to set it up. Then, in Chromium, as two students:

- a course room appears in the sidebar live when the host enrols a student (the roster
  hook, from another process: host code);
- the two chat live, on sockets under the new prefix;
- unenrolling one ends their access live (their composer closes, the other's member count
  drops);
- the API docs page renders under the same policy with no request leaving 127.0.0.1;
- no CSP violation on any page, and no e-mail address in any page or frame.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django
import pytest
from playwright.sync_api import Browser, Page, expect

from tests import portal
from tests.browser.conftest import composer, send
from tests.servers import free_port, stop_process, wait_port

HOST_CSP = django.VERSION >= (6, 0)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDIS = "redis://127.0.0.1:6379/3"


def _settings(prefix: str) -> str:
    policy = (
        """
        from django.utils.csp import CSP

        MIDDLEWARE += ["django.middleware.csp.ContentSecurityPolicyMiddleware"]
        SECURE_CSP = {
            "default-src": [CSP.SELF],
            "script-src": [CSP.SELF, CSP.NONCE],
            "style-src": [CSP.SELF, CSP.NONCE],
            "img-src": [CSP.SELF, "data:"],
            "font-src": [CSP.SELF],
            "connect-src": [CSP.SELF],
            "frame-ancestors": [CSP.NONE],
            "base-uri": [CSP.SELF],
            "form-action": [CSP.SELF],
        }
        SMARTCAMPUS_CHAT["CONTENT_SECURITY_POLICY"] = None
        """
        if HOST_CSP
        else ""
    )
    return textwrap.dedent(policy) + textwrap.dedent(
        f"""
            ALLOWED_HOSTS = ["127.0.0.1"]
            CHANNEL_LAYERS = {{
                "default": {{
                    "BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {{
                        "hosts": [{{"address": {REDIS!r}, "socket_timeout": 15}}],
                        "prefix": {prefix!r},
                    }},
                }}
            }}
            SMARTCAMPUS_CHAT["WS_PREFIX"] = "realtime/"
            """
    )


SETUP = """
import json, django
django.setup()
from django.core.management import call_command
call_command("makemigrations", "accounts", "courses", verbosity=0)
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.test import Client
from courses.models import Course
User = get_user_model()
cookies = {}
for email, name in (("ann.lee@campus.example", "Ann Lee"), ("ben.k@campus.example", "Ben K")):
    user = User.objects.create_user(email, "pw", full_name=name)
    client = Client()
    client.force_login(user)
    cookies[name.split()[0].lower()] = client.cookies["sessionid"].value
Course.objects.create(code="CS101", title="Programming")
print(json.dumps(cookies))
"""

ENROL = """
import django, sys
django.setup()
from django.contrib.auth import get_user_model
from courses.models import Course, Enrollment
user = get_user_model().objects.get(full_name=sys.argv[1])
course = Course.objects.get(code="CS101")
if sys.argv[2] == "enrol":
    Enrollment.objects.create(user=user, course=course)
else:
    Enrollment.objects.filter(user=user, course=course).delete()
"""

WATCH = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI || ""} ${e.sample || ""}`);
}, true);"""


def _python(directory: Path, env: dict[str, str], code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@contextmanager
def _served(directory: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            *("-m", "uvicorn", "mysite.asgi:application", "--port", str(port)),
            *("--host", "127.0.0.1", "--ws-max-size", "65536", "--lifespan", "off"),
        ],
        cwd=directory,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_port(port, server, timeout=60)
        except AssertionError:
            raise AssertionError((directory / "server.log").read_text()) from None
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(server)
        log.close()


class Student:
    """A browser page of one student, with what it received and what the CSP refused."""

    def __init__(self, browser: Browser, url: str, session: str) -> None:
        self.context = browser.new_context(base_url=url, locale="en-US")
        self.context.add_cookies([{"name": "sessionid", "value": session, "url": url}])
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(WATCH)
        self.page: Page = self.context.new_page()
        self.frames: list[str] = []
        self.sockets: list[str] = []
        self.hosts: set[str] = set()
        self.errors: list[str] = []
        self.page.on("websocket", self._socket)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "requestfinished", lambda request: self.hosts.add(urlsplit(request.url).hostname or "")
        )

    def _socket(self, socket: Any) -> None:
        self.sockets.append(socket.url)
        socket.on("framereceived", lambda payload: self.frames.append(str(payload)))

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__violations")
        return found

    def open_course_room(self) -> None:
        self.page.locator("#my-rooms a[data-shell-link]", has_text="CS101").click()
        expect(self.page.locator(".scc-room .scc-room-name")).to_contain_text("CS101")


@pytest.mark.slow
def test_a_portal_with_its_own_csp_and_prefix_chats_live_in_chromium(
    browser: Browser, tmp_path: Path
) -> None:
    env = portal.build(tmp_path, _settings(f"portal-{uuid.uuid4().hex[:8]}"))
    # Static files under uvicorn during development (docs/deployment.md, "Static files").
    asgi = tmp_path / "mysite" / "asgi.py"
    source = asgi.read_text()
    for anchor in ('"http": django_asgi_app,', "from channels.routing import"):
        assert anchor in source, f"the README's asgi.py no longer has {anchor!r}"
    asgi.write_text(
        source.replace(
            '"http": django_asgi_app,', '"http": ASGIStaticFilesHandler(django_asgi_app),'
        ).replace(
            "from channels.routing import",
            "from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402\n"
            "from channels.routing import",
        )
    )
    sessions = json.loads(_python(tmp_path, env, SETUP).strip().splitlines()[-1])
    with _served(tmp_path, env) as url:
        ann = Student(browser, url, sessions["ann"])
        response = ann.page.goto("/messages/")
        assert response is not None
        policy = response.headers["content-security-policy"]
        # On Django 6 the host's policy (it names no object-src; the chat's does); on 5.2
        # the chat's own. The chat's pages need no inline script: no nonce is spent.
        assert ("object-src" not in policy) is HOST_CSP, policy
        assert "'unsafe-inline'" not in policy
        expect(ann.page.locator(".portal-nav")).to_have_text("Campus portal")
        expect(ann.page.locator("#my-rooms a[data-shell-link]")).to_have_count(0)

        _python(tmp_path, env, ENROL, "Ann Lee", "enrol")  # Host code: the roster hook.
        expect(ann.page.locator("#my-rooms a[data-shell-link]", has_text="CS101")).to_be_visible()
        _python(tmp_path, env, ENROL, "Ben K", "enrol")
        ann.open_course_room()
        expect(ann.page.locator(".scc-member-count")).to_contain_text("2 members")

        ben = Student(browser, url, sessions["ben"])
        ben.page.goto("/messages/")
        ben.open_course_room()
        send(ann.page, "Hello from Ann")
        expect(
            ben.page.locator("#message-list .scc-content", has_text="Hello from Ann")
        ).to_be_visible()
        send(ben.page, "Hi Ann")
        expect(ann.page.locator("#message-list .scc-content", has_text="Hi Ann")).to_be_visible()

        _python(tmp_path, env, ENROL, "Ben K", "unenrol")
        expect(composer(ben.page)).to_be_disabled()
        expect(ann.page.locator(".scc-member-count")).to_contain_text("1 member")

        docs = ann.context.new_page()
        docs.on(
            "requestfinished", lambda request: ann.hosts.add(urlsplit(request.url).hostname or "")
        )
        docs.goto("/messages/api/docs/")
        expect(docs.locator(".swagger-ui .info .title")).to_contain_text("smartcampus-chat API")
        docs.wait_for_load_state("networkidle")
        docs_violations: list[str] = docs.evaluate("window.__violations")

        pages = [ann.page.content(), ben.page.content()]
        for student in (ann, ben):
            assert student.sockets, "no socket opened"
            assert all(urlsplit(s).path.startswith("/realtime/") for s in student.sockets)
            assert student.violations() == [], student.violations()
            assert student.errors == []
        assert docs_violations == []
        assert ann.hosts | ben.hosts == {"127.0.0.1"}
        texts = "\n".join(pages + ann.frames + ben.frames)
        assert "Hello from Ann" in texts
        assert EMAIL.findall(texts) == []
        ann.context.close()
        ben.context.close()
