"""The README's code blocks marked `<!-- tested -->` run and work (see also
keras_models/gan/test_export.py)."""

import re
import subprocess

import keras
import numpy as np
import tensorflow as tf

import tf_diffaug
from tests.helpers.readme import README, ROOT, readme_blocks


def test_train_step_snippet_augments_reals_and_fakes_and_trains_both_networks():
    snippet = next(b for b in readme_blocks() if "def train_step" in b)
    assert len([line for line in snippet.splitlines() if line.strip()]) < 10
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(8 * 8 * 3, activation="tanh"),
            keras.layers.Reshape((8, 8, 3)),
        ]
    )
    discriminator = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    namespace = {
        "tf": tf,
        "tf_diffaug": tf_diffaug,
        "generator": generator,
        "discriminator": discriminator,
        "d_opt": keras.optimizers.Adam(1e-2),
        "g_opt": keras.optimizers.Adam(1e-2),
    }
    exec(snippet, namespace)
    augment = namespace["augment"]
    g_before = [w.numpy() for w in generator.weights]
    # D's bias gets no hinge gradient while every logit sits inside the margin.
    d_kernels = [w for w in discriminator.weights if "kernel" in w.path]
    d_before = [w.numpy() for w in d_kernels]
    state_before = augment.seed_generator.state.numpy()
    namespace["train_step"](tf.random.uniform((4, 8, 8, 3), -1, 1), tf.random.normal((4, 8)))
    # The layer drew twice: once for the reals, once for the fakes.
    assert augment.seed_generator.state.numpy()[1] == state_before[1] + 2
    for before, after in zip(g_before + d_before, generator.weights + d_kernels, strict=True):
        assert not np.array_equal(before, after.numpy())


def test_ci_runs_the_readmes_test_command_which_lints_first():
    command = re.search(r"^(make \w+) +# .*the command CI runs", README.read_text(), re.M)[1]
    lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert lines[-1] == command == "make test"
    steps = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert steps.index("ruff check . && ") < steps.index("ruff format --check .")
    assert steps.index("ruff format --check .") < steps.index("-m pytest")


def test_the_gan_page_shows_the_readmes_tested_example():
    example = next(b for b in readme_blocks() if "gan.export_generator(" in b)
    page = (ROOT / "docs" / "gan.md").read_text()
    copy = re.search(r"<!-- the README's example -->\n```python\n(.*?)```", page, re.DOTALL)[1]
    assert copy == example


def test_the_readme_is_a_front_door():
    """Short, linking into docs/, with no machine-specific prose."""
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    assert "this machine" not in text and "this shared" not in text
    for page in re.findall(r"\]\(docs/([\w-]+\.md)", text):
        assert (ROOT / "docs" / page).is_file(), page
