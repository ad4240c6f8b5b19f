"""The built wheel carries everything an integrator needs, and installs on its own."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("smartcampus_chat-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        "smartcampus_chat/py.typed",
        "smartcampus_chat/migrations/0001_initial.py",
        "smartcampus_chat/templates/smartcampus_chat/room_detail.html",
        "smartcampus_chat/static/smartcampus_chat/css/chat.css",
        "smartcampus_chat/static/smartcampus_chat/vendor/bootstrap/bootstrap.min.css",
        "smartcampus_chat/locale/fr/LC_MESSAGES/django.mo",
        "smartcampus_chat/locale/en/LC_MESSAGES/django.mo",
    ]
    assert [name for name in expected if name not in names] == []
    assert not any(name.startswith(("tests/", "example_project/")) for name in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Classifier: Framework :: Django :: 6.1" in text
    assert "Provides-Extra: postgres" in text


@pytest.mark.slow
def test_wheel_installs_into_an_empty_virtualenv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    result = subprocess.run(
        [
            str(python),
            "-c",
            "import smartcampus_chat, smartcampus_chat.conf; print(smartcampus_chat.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip()
