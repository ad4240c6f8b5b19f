#!/usr/bin/env python3
"""Quick start for a fresh machine with only Python 3.10+ (standard library only).

    python3 scripts/dev.py demo   # set up, migrate, seed and serve the example site
    python3 scripts/dev.py test   # set up and run the whole test suite (lint, docs, tests)

Both are idempotent. Everything is installed into ./.venv (the demo and the tox runner) and
./.tox (one virtualenv per test environment).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEMO_HOST = os.environ.get("DEMO_HOST", "127.0.0.1")
DEMO_PORT = os.environ.get("DEMO_PORT", "8000")


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, env=env, check=True)


def ensure_venv() -> None:
    if not PYTHON.exists():
        say(f"creating {VENV.relative_to(ROOT)} with {sys.executable}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")


def pip_install(*requirements: str) -> None:
    run(PYTHON, "-m", "pip", "install", "--quiet", *requirements)


def demo(_: argparse.Namespace) -> None:
    ensure_venv()
    say("installing smartcampus-chat (editable) and the example site's needs")
    pip_install("-e", ".[uvicorn,daphne]", "dj-database-url>=2.2", "django-axes>=8.0")
    site = ROOT / "example_project"
    run(PYTHON, "manage.py", "migrate", "--verbosity", "0", cwd=site)
    run(PYTHON, "manage.py", "seed_demo", cwd=site)
    url = f"http://{DEMO_HOST}:{DEMO_PORT}/"
    say(f"SmartCampus example site: {url}  (chat at {url}chat/)")
    say("demo logins: alice, bob, chloe (students), prof.martin (teacher), staff.admin (staff)")
    say("password for every demo login: campus-demo   (Ctrl+C stops the server)")
    os.chdir(site)
    os.execv(str(PYTHON), demo_command(str(PYTHON), site_frame_limit(site)))


def site_frame_limit(site: Path) -> int:
    """The example site's ``MAX_FRAME_BYTES``, read from its settings (not copied here)."""
    out = subprocess.run(
        [
            str(PYTHON),
            "manage.py",
            "shell",
            "-c",
            "from smartcampus_chat.conf import app_settings; print(app_settings.MAX_FRAME_BYTES)",
        ],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1])


def demo_command(python: str, frame_limit: int) -> list[str]:
    """uvicorn serving the example site. ``--ws-max-size``: uvicorn refuses bigger frames
    (1009) before reading them into memory; Channels has no limit of its own, and the
    app's check only runs once the whole frame is in memory."""
    return [
        python,
        "-m",
        "uvicorn",
        "campus.asgi:application",
        "--host",
        DEMO_HOST,
        "--port",
        DEMO_PORT,
        "--ws-max-size",
        str(frame_limit),
    ]


def _runs(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out[0]), int(out[1])


def find_pythons() -> dict[tuple[int, int], str]:
    """Interpreters 3.10-3.13 on PATH or installed by pyenv."""
    found: dict[tuple[int, int], str] = {}
    candidates = [shutil.which(f"python3.{minor}") for minor in range(10, 14)]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob("versions/3.1[0-3].*/bin/python3"))
    candidates.append(sys.executable)
    for candidate in filter(None, candidates):
        version = _runs(candidate)
        if version and (3, 10) <= version <= (3, 13) and version not in found:
            found[version] = candidate
    return found


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def install_axe() -> None:
    """axe-core for the browser suite's accessibility tests, when npm is there."""
    browser_tests = ROOT / "tests" / "browser"
    if (browser_tests / "node_modules" / "axe-core").is_dir():
        return
    if shutil.which("npm") is None:
        say("npm not found: the accessibility tests will skip (they need axe-core)")
        return
    run("npm", "ci", "--prefix", browser_tests, "--no-audit", "--no-fund", "--loglevel=error")


def test(args: argparse.Namespace) -> None:
    ensure_venv()
    pip_install("tox>=4.20")
    install_axe()
    pythons = find_pythons()
    say("Pythons found: " + ", ".join(f"{a}.{b}" for a, b in sorted(pythons)))
    envs = ["lint", "docs"]
    oldest = min(pythons)
    envs.append(f"py{oldest[0]}{oldest[1]}-dj52")
    newest = max(pythons)
    if newest >= (3, 12):
        latest = f"py{newest[0]}{newest[1]}-dj61"
        if reachable(5432) or IN_CI:
            latest += "-pg"
        else:
            say("PostgreSQL is not running on 127.0.0.1:5432: the Django 6.1 run uses SQLite")
        envs.append(latest)
    else:
        say("no Python 3.12+ found: Django 6.x runs are left out (they need Python 3.12+)")
    if args.envs:
        envs = args.envs.split(",")
    path = os.pathsep.join([*(str(Path(p).parent) for p in pythons.values()), os.environ["PATH"]])
    env = {**os.environ, "PATH": path}
    say("tox envs: " + ", ".join(envs))
    for report in ROOT.glob(".tox/*/junit.xml"):
        report.unlink()
    # Two at a time: the test environments are one pytest process each (plus the servers
    # some tests start), so on a machine with two cores or more the SQLite and PostgreSQL
    # runs share the wall-clock time instead of adding up.
    try:
        run(
            BIN / "tox",
            "run-parallel",
            "--parallel",
            "2",
            "--parallel-no-spinner",
            "-e",
            ",".join(envs),
            "--",
            *args.pytest_args,
            env=env,
        )
    finally:
        summarise_failures()


def summarise_failures() -> None:
    """Repeat each failed test and the start of its message after tox's own summary: in a
    long CI log the reason of a failure would otherwise be far above the last lines."""
    for report in sorted(ROOT.glob(".tox/*/junit.xml")):
        # The suite's own report, written by this run's pytest.
        cases = ElementTree.parse(report).getroot().iter("testcase")  # noqa: S314
        for case in cases:
            for problem in [*case.iter("failure"), *case.iter("error")]:
                where = f"{case.get('classname', '')}::{case.get('name', '')}"
                message = " ".join((problem.get("message") or "").split())[:400]
                say(f"{report.parent.name} {problem.tag}: {where}: {message}")
                for line in logged_problems(case.findtext("system-err") or ""):
                    print(f"    {line}", flush=True)


def logged_problems(captured: str, most: int = 15) -> list[str]:
    """The last warnings and errors a failed test's servers logged (the browser suite's
    live server log is a captured stderr section): what a CI log's last lines should show."""
    marks = ("WARNING", "ERROR", "CRITICAL", "Traceback", "Error:", "Exception")
    lines = [line[:300] for line in captured.splitlines() if any(m in line for m in marks)]
    return lines[-most:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the example site").set_defaults(func=demo)
    test_parser = commands.add_parser("test", help="run lint, docs and the test suite")
    test_parser.add_argument("--envs", help="comma-separated tox envs instead of the default set")
    test_parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    test_parser.set_defaults(func=test)
    args = parser.parse_args()
    try:
        args.func(args)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)


if __name__ == "__main__":
    main()
