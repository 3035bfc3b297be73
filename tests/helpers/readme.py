"""Code blocks of the README and docs pages that tests run.

README blocks marked `<!-- tested -->` run in a namespace a test gives them
(`tests/test_readme.py`, `tests/keras_models/gan/test_export.py`). In docs/, a block
marked `<!-- tested by <test file> -->` is run by that test, in its namespace;
a block marked `<!-- tested -->` there runs on its own (`tests/test_docs_blocks.py`).
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MARKER = "<!-- tested -->"


def readme_blocks():
    text = README.read_text()
    return re.findall(re.escape(MARKER) + r"\n```python\n(.*?)```", text, re.DOTALL)


def docs_blocks(page, test_file):
    """The python blocks of `docs/<page>` marked as run by `test_file` (repo-relative)."""
    text = (DOCS / page).read_text()
    marker = f"<!-- tested by {test_file} -->"
    return re.findall(re.escape(marker) + r"\n```python\n(.*?)```", text, re.DOTALL)
