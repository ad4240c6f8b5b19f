"""A campus portal built like the one of issue #17, from the docs, in a temporary
directory: an e-mail login (``accounts``), a courses app whose enrolments drive the chat's
course rooms (``courses``), its own layout with other block names, and the chat under
``/messages/``. Used by tests/test_host_email_portal.py and
tests/browser/test_host_portal.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.test_host_integration import readme_block

FILES = Path(__file__).resolve().parent
ROOT = FILES.parent.parent

SETTINGS = textwrap.dedent(
    """
    INSTALLED_APPS += ["accounts", "courses"]
    AUTH_USER_MODEL = "accounts.User"
    TEMPLATES[0]["DIRS"] = [BASE_DIR / "templates"]
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    SMARTCAMPUS_CHAT = {
        "BASE_TEMPLATE": "chat_layout.html",
        "COURSE_MODEL": "courses.Course",
        "COURSE_ROLE_RESOLVER": "courses.chat.course_role",
    }
    """
)


def build(directory: Path, extra_settings: str = "") -> dict[str, str]:
    """Build the portal in ``directory`` (``startproject mysite``, the README's snippets,
    the apps and templates above, then ``extra_settings``); the environment to run it
    with (``DJANGO_SETTINGS_MODULE=mysite.settings``, the chat from ``src``)."""
    hidden = ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PYTHONPATH"] = str(ROOT / "src")
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(directory)],
        check=True,
        env=env,
    )
    package = directory / "mysite"
    settings = package / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\n"
        + readme_block("settings")
        + "\n"
        + SETTINGS
        + "\n"
        + textwrap.dedent(extra_settings)
        + "\n"
    )
    urls = package / "urls.py"
    urls.write_text(
        urls.read_text() + "\n" + readme_block("urls").replace('path("chat/"', 'path("messages/"')
    )
    (package / "asgi.py").write_text(readme_block("asgi"))
    for app, files in {
        "accounts": {"models.py": "accounts_models.py"},
        "courses": {
            "models.py": "courses_models.py",
            "chat.py": "courses_chat.py",
            "apps.py": "courses_apps.py",
        },
    }.items():
        (directory / app).mkdir()
        (directory / app / "__init__.py").write_text("")
        for name, source in files.items():
            shutil.copy(FILES / source, directory / app / name)
    (directory / "templates").mkdir()
    for name in ("base.html", "chat_layout.html"):
        shutil.copy(FILES / name, directory / "templates" / name)
    env["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    return env
