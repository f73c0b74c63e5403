"""The code base stays ruff-clean (the lint step of the test suite)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("ruff") is None, reason="ruff is not installed (pip install .[test])"
)
def test_ruff_is_clean():
    targets = [p for p in ("skphotoz", "tests", "benchmarks", "examples") if (ROOT / p).exists()]
    result = subprocess.run(["ruff", "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
