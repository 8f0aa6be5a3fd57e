"""Setting up prints no warning a user would have to puzzle over (issue 20, item 13)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import REPO

#: pip matches extras by their normalised names from this version on (PEP 685).
PIP_NORMALISING_EXTRAS = (23, 3)


def test_bootstrap_installs_a_pip_that_matches_normalised_extras_before_the_project():
    """jusText asks for lxml[html_clean]; lxml 6 spells the extra html-clean. pip 23.2 (what
    python 3.11's venv brings) then warns "lxml 6.2.1 does not provide the extra 'html_clean'"."""
    lines = (REPO / "bootstrap.sh").read_text(encoding="utf-8").splitlines()
    pip_line = next(i for i, line in enumerate(lines) if re.search(r'install "pip>=23\.3"', line))
    project_line = next(i for i, line in enumerate(lines) if "install -e" in line)
    assert pip_line < project_line


def test_html_cleaning_is_installed():
    import justext  # noqa: F401 - trafilatura's fallback extractor, the one asking for lxml[html_clean]
    from lxml.html.clean import Cleaner

    assert "alert" not in Cleaner(javascript=True).clean_html("<div><p>Bridge</p><script>alert(1)</script></div>")


@pytest.mark.slow
def test_installing_the_project_prints_no_extra_warning():
    from importlib.metadata import version

    assert tuple(int(p) for p in version("pip").split(".")[:2]) >= PIP_NORMALISING_EXTRAS, "run ./bootstrap.sh"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-build-isolation",
                           "--disable-pip-version-check", "-e", str(REPO)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "does not provide the extra" not in done.stdout + done.stderr
