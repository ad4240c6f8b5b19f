"""The example of docs/integration.md, "Testing your integration", runs and passes, with
unittest (the way a host running Django's test runner would run it)."""

from __future__ import annotations

import re
import subprocess
import sys
import types
import unittest
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "integration.md"


def example_source() -> str:
    section = DOC.read_text(encoding="utf-8").split("## Testing your integration", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the section has no Python example"
    return match.group(1)


def test_the_testing_module_needs_no_pytest() -> None:
    code = "import sys, smartcampus_chat.testing; assert 'pytest' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.django_db(transaction=True)
def test_the_documented_example_passes_under_unittest() -> None:
    module = types.ModuleType("docs_testing_example")
    exec(compile(example_source(), str(DOC), "exec"), module.__dict__)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(module.ChatIntegrationTests)
    assert suite.countTestCases() == 2
    result = unittest.TextTestRunner(verbosity=0).run(suite)
    assert result.wasSuccessful(), result.failures + result.errors
