"""`tests/tf_diffaug` under the other Keras backends, each in its own process (a process
has one backend), and what each backend imports."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers.backend import BACKEND

if BACKEND != "tensorflow":
    pytest.skip("started from the TensorFlow run", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTRAS = {"jax": "jax", "torch": "torch"}


def run_python(code, backend, timeout=120):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def installed(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(
            f"{backend} is not installed: `pip install -e '.[{EXTRAS[backend]}]'` to test "
            f"DiffAugment under KERAS_BACKEND={backend}"
        )


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_layer_tests_pass_under_the_backend(backend):
    """Exactness, gradients, seeds, dtypes, save/load and errors: the same tests."""
    installed(backend)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/tf_diffaug"]
    result = subprocess.run(
        command,
        env={**os.environ, "KERAS_BACKEND": backend},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_importing_and_running_the_layer_loads_no_tensorflow(backend):
    installed(backend)
    result = run_python(
        """
        import sys
        import numpy as np
        import tf_diffaug
        x = np.zeros((2, 8, 8, 3), "float32")
        tf_diffaug.DiffAugment(seed=1)(x, training=True)
        tf_diffaug.diff_augment(x, seed=2)
        print(sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow"))
        """,
        backend,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_an_unsupported_backend_fails_at_construction_with_a_clear_message():
    result = run_python(
        """
        import tf_diffaug
        for make in (lambda: tf_diffaug.DiffAugment(), lambda: tf_diffaug.diff_augment(None)):
            try:
                make()
            except ValueError as error:
                print(error)
        """,
        "numpy",
    )
    assert result.returncode == 0, result.stderr
    message = (
        "DiffAugment runs on the tensorflow, jax, torch Keras backends; the current backend "
        "is 'numpy'. Set the environment variable KERAS_BACKEND to one of them before "
        "importing keras."
    )
    assert result.stdout.splitlines() == [message, message]


def test_keras_models_on_another_backend_says_to_use_tensorflow():
    installed("jax")
    result = run_python("import keras_models.gan", "jax")
    assert result.returncode != 0
    assert "keras_models (the GAN toolkit) runs on the TensorFlow Keras backend" in result.stderr
    assert "KERAS_BACKEND=jax" in result.stderr


def test_keras_models_without_the_toolkit_extra_names_the_extra():
    """A missing GAN-toolkit dependency is named, with the extra that installs it."""
    result = run_python(
        """
        import sys
        sys.modules["tensorflow_datasets"] = None  # as if not installed
        sys.modules["scipy"] = None
        import keras_models
        """,
        "tensorflow",
    )
    assert result.returncode != 0
    assert (
        "keras_models (the GAN toolkit) needs tensorflow_datasets, scipy, which are not "
        "installed: pip install 'tf-diffaug[gan]'"
    ) in result.stderr
