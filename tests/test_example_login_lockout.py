"""The example site refuses a login after repeated wrong passwords (django-axes).

It runs the example site's own settings (``campus.settings``) in a child process: the
chat's test settings (``tests.settings``) have no lockout, which shows that the chat itself
does not depend on it. Through the site's real login form (``/accounts/login/``), from one
client address: ``AXES_FAILURE_LIMIT`` (5) wrong passwords, then the right one is refused
with HTTP 429; the same username from another address, and another username from the same
address, still log in; fewer failures than the limit do not lock anyone out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import json, os
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    User = get_user_model()
    for name in ("victim", "other", "careful"):
        User.objects.create_user(name, password="right-password")

    def login(username, password, ip="10.1.1.1"):
        client = Client(REMOTE_ADDR=ip)
        response = client.post(
            "/accounts/login/", {"username": username, "password": password}
        )
        return response.status_code, "_auth_user_id" in client.session

    limit = getattr(settings, "AXES_FAILURE_LIMIT", 5)
    out = {"limit": limit}
    out["wrong"] = [login("victim", "wrong-%d" % n) for n in range(limit)]
    out["right_after_limit"] = login("victim", "right-password")
    out["other_ip"] = login("victim", "right-password", ip="10.2.2.2")
    out["other_user_same_ip"] = login("other", "right-password")
    out["below_limit"] = [login("careful", "wrong", ip="10.3.3.3") for _ in range(limit - 1)]
    out["right_below_limit"] = login("careful", "right-password", ip="10.3.3.3")
    print("RESULT " + json.dumps(out))
    """
)


@pytest.mark.slow
def test_the_example_site_locks_a_username_and_address_out_after_repeated_failures(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "campus.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "DEBUG": "1",
        "REDIS_URL": "",
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "example_project"), str(ROOT)]
            + [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        ),
    }
    env.pop("AXES_FAILURE_LIMIT", None)
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    line = next(line for line in child.stdout.splitlines() if line.startswith("RESULT "))
    out = json.loads(line.removeprefix("RESULT "))
    assert out["limit"] == 5
    # The form answers each wrong password with itself (200), not logged in.
    assert all(status == 200 and not logged_in for status, logged_in in out["wrong"][:-1])
    assert out["right_after_limit"] == [429, False]
    assert out["other_ip"] == [302, True]
    assert out["other_user_same_ip"] == [302, True]
    assert out["right_below_limit"] == [302, True]
