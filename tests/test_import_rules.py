"""The import rules hold: the contracts of pyproject.toml ([tool.importlinter], checked by import-linter,
the same check as `make lint`), and the cheap imports stay cheap in a fresh interpreter."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("faiss", "torch", "sentence_transformers")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter that imports this checkout first (not an installed copy)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_are_kept() -> None:
    if importlib.util.find_spec("importlinter") is None:
        # CI installs the dev extra: there a missing import-linter is a broken setup, not a reason to skip.
        if os.environ.get("CI"):
            pytest.fail("import-linter is not installed, and CI must check the import contracts")
        pytest.skip("import-linter is not installed (pip install -e '.[dev]'); CI runs this check")
    # In a subprocess: import-linter configures logging for the whole process (and would silence the
    # loggers other tests read) and puts the working directory on sys.path.
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
    )
    done = _python(code)
    assert done.returncode == 0, f"import contracts broken (`lint-imports`):\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("module", ["recsys.errors", "recsys.settings"])
def test_the_foundations_load_no_heavy_library(module: str) -> None:
    # The CLI's error line and every settings read start here: neither may wait for faiss or torch.
    done = _python(f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))")
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert module in loaded
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    assert not heavy, f"`import {module}` loads {heavy}"
