"""examples/downstream/ as its users would run it: its two files alone in a fresh
directory, pytest in a subprocess with the plugin loaded as an installed package loads it
(see test_plugin.py), once plainly and once under xdist."""
from __future__ import annotations

import os
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "downstream"
FILES = ("phonesetup.py", "test_phonesetup.py")
INSTALLED = any(ep.value == "ocss_testkit.plugin" for ep in entry_points(group="pytest11"))


def count_tests() -> int:
    source = (EXAMPLE / "test_phonesetup.py").read_text("utf-8")
    return sum(1 for line in source.splitlines() if line.startswith("def test_"))


@pytest.fixture
def run(pytester, monkeypatch):
    for name in FILES:
        shutil.copy(EXAMPLE / name, pytester.path / name)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def go(*args):
        extra = [] if INSTALLED else ["-p", "ocss_testkit.plugin"]
        return pytester.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args, timeout=240)
    return go


def test_the_example_passes(run):
    result = run("-v")
    result.assert_outcomes(passed=count_tests())
    result.stdout.fnmatch_lines(["*test_retries_a_server_that_answers_503 PASSED*",
                                 "*test_gives_up_after_its_retry_budget PASSED*"])


def test_the_example_passes_under_xdist(run):
    result = run("-n", "2")
    result.assert_outcomes(passed=count_tests())
