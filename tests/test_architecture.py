"""The boundaries in pyproject.toml's [tool.importlinter]: the app imports neither tests nor benchmarks, the
benchmarks not the tests, the domain nothing of Slack, each Slack feature folder none of the others, the toolkit
no feature. Run as `lint-imports` does, in a process of its own
(it puts the working directory on sys.path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def test_the_import_contracts_are_kept() -> None:
    run = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"import-linter found a broken boundary:\n{run.stdout}\n{run.stderr}"
