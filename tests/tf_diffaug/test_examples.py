"""The JAX and PyTorch GAN examples (`docs/examples`) run as their page says, and the page
(`docs/backends.md`) shows them as they are."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tests.helpers.backend import BACKEND

if BACKEND != "tensorflow":
    pytest.skip("started from the TensorFlow run", allow_module_level=True)

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "backends.md"
EXAMPLES = {"jax": ROOT / "docs/examples/gan_jax.py", "torch": ROOT / "docs/examples/gan_torch.py"}
DONE = "gradient through DiffAugment checked"


@pytest.mark.parametrize("backend", sorted(EXAMPLES))
def test_the_example_trains_and_checks_the_gradient_through_the_augmentation(backend):
    """A few steps of the GAN, then the example's own checks: finite losses, D's and G's
    weights changed, and the gradient through DiffAugment (its last line)."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed: `pip install -e '.[{backend}]'` to run it")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES[backend].relative_to(ROOT))],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("step 0: d_loss "), result.stdout
    assert lines[-1] == DONE, result.stdout


def python_blocks(text):
    """The page's Python blocks, as (indentation, code); a block in a list item is indented."""
    pattern = r"^( *)```python\n(.*?)^\1```$"
    return re.findall(pattern, text, flags=re.MULTILINE | re.DOTALL)


def test_the_page_shows_each_example_as_it_is_and_how_to_run_it():
    """Each example is a Python block of the page, verbatim and once; every other Python
    block (a snippet in a list) is made of lines of the examples: the page cannot drift
    from the tested code."""
    page = PAGE.read_text()
    examples = {path.name: path.read_text() for path in EXAMPLES.values()}
    example_lines = {line.strip() for code in examples.values() for line in code.splitlines()}
    blocks = python_blocks(page)
    shown = [code for indent, code in blocks if not indent]
    for name, code in examples.items():
        assert shown.count(code) == 1, f"{PAGE.name} does not show docs/examples/{name} as it is"
    for _, code in blocks:
        if code in examples.values():
            continue
        for line in filter(None, (line.strip() for line in code.splitlines())):
            assert line in example_lines, f"{PAGE.name}: {line!r} is in no example"
    for backend, path in EXAMPLES.items():
        assert f"KERAS_BACKEND={backend} python {path.relative_to(ROOT)}" in page
