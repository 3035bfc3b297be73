"""Fine-tuning: FreezeD (`GAN(frozen_discriminator_blocks=K)`, --freeze_d) and --init_from."""

import json
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models import biggan, build, finetune, recipes, stylegan2
from keras_models.backbone import freeze_blocks
from keras_models.gan import GAN
from tests.helpers.runs import TINY, run_in_process, run_train

BATCH = 4


def tiny_gan(family="biggan", width=None, ema_decay=0.9, frozen=0, seed=0):
    """A compiled tiny unconditional GAN of `family` at 32 px."""
    if family == "biggan":
        g = biggan.Generator(num_classes=None, width=width or 4)
        d = biggan.Discriminator(width=width or 4)
    else:
        g = stylegan2.Generator(resolution=32, latent_dim=16, w_dim=16, width=width or 64)
        d = stylegan2.Discriminator(resolution=32, width=width or 64)
    gan = GAN(
        g,
        d,
        latent_dim=g.latent_dim,
        loss="non_saturating",  # hinge can leave exact zero gradients on tiny models
        ema_decay=ema_decay,
        frozen_discriminator_blocks=frozen,
        seed=seed,
    )
    gan.compile(keras.optimizers.Adam(1e-3, 0.0, 0.99), keras.optimizers.Adam(1e-3, 0.0, 0.99))
    return gan


def fit(gan, steps=2):
    reals = np.random.default_rng(0).uniform(-1, 1, (BATCH, 32, 32, 3)).astype("float32")
    gan.fit(tf.data.Dataset.from_tensors(reals).repeat(), steps_per_epoch=steps, verbose=0)


def values(weights):
    return [np.array(w.numpy()) for w in weights]


# --- FreezeD ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "family",
    ["biggan", pytest.param("stylegan2", marks=pytest.mark.slow)],  # the rule is one
)
def test_freeze_d_keeps_the_first_blocks_bitwise_and_trains_every_other_weight(family):
    gan = tiny_gan(family, frozen=2)
    d = gan.discriminator
    frozen = [w for block in d.blocks_from_input()[:2] for w in block.weights]
    frozen_ids = {id(w) for w in frozen}
    trained = [w for w in d.weights if w.trainable]
    assert frozen and trained and not frozen_ids & {id(w) for w in trained}
    before_frozen, before_trained = values(frozen), values(trained)
    fit(gan)
    # All of a frozen block's state, spectral-norm vectors included, is unchanged.
    for weight, value in zip(frozen, before_frozen, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value, err_msg=weight.path)
    unchanged = [
        w.path
        for w, value in zip(trained, before_trained, strict=True)
        if np.array_equal(w.numpy(), value)
    ]
    assert not unchanged
    # D's optimizer has slots for exactly the trained weights.
    slots = [v.name for v in gan.d_optimizer.variables]
    has_slot = lambda w: any(s.startswith(w.path.replace("/", "_") + "_") for s in slots)
    assert not [w.path for w in frozen if has_slot(w)]
    assert all(has_slot(w) for w in trained)


@pytest.mark.slow  # the control of the FreezeD test above
def test_without_freeze_d_the_spectral_norm_vectors_of_the_first_block_move():
    # What the frozen case above rules out (its check would fail without freezing).
    gan = tiny_gan()
    block = gan.discriminator.blocks_from_input()[0]
    before = values(block.weights)
    fit(gan, steps=1)
    moved = [not np.array_equal(w.numpy(), v) for w, v in zip(block.weights, before, strict=True)]
    assert all(moved)


def test_freeze_d_beyond_the_blocks_is_an_error_naming_them():
    d = biggan.Discriminator(width=4)
    with pytest.raises(ValueError, match=r"between 0 and 4 .*block1, block2, block3, block4"):
        freeze_blocks(d, 5)
    with pytest.raises(ValueError, match="blocks_from_input"):
        freeze_blocks(keras.Sequential([keras.layers.Dense(1)]), 1)
    assert freeze_blocks(d, 0) == [] and all(layer.trainable for layer in d.blocks)


# --- --init_from -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A trained tiny GAN (EMA differing from G) saved as a run directory's checkpoint,
    as a bare checkpoint prefix and as a .weights.h5 file."""
    folder = tmp_path_factory.mktemp("source")
    gan = tiny_gan()
    fit(gan, steps=3)
    checkpoint = tf.train.Checkpoint(**gan.checkpoint_items())
    prefix = checkpoint.save(str(folder / "run" / "checkpoints" / "ckpt"))  # and its index
    weights = str(folder / "best.weights.h5")
    gan.save_weights(weights)
    return gan, {"run directory": str(folder / "run"), "prefix": prefix, "weights": weights}


def latents(count=4, dim=128):
    return np.random.default_rng(7).standard_normal((count, dim)).astype("float32")


@pytest.mark.parametrize("kind", ["run directory", "prefix", "weights"])
def test_init_from_loads_g_d_and_ema_exactly_and_nothing_else(source, kind):
    trained, paths = source
    gan = tiny_gan(frozen=1, seed=5)
    seeds = [np.array(s) for s in gan._random_states()]
    finetune.load_initial_weights(gan, paths[kind])
    z = latents()
    for new, old in (
        (gan.generator, trained.generator),
        (gan.ema_generator, trained.ema_generator),
    ):
        np.testing.assert_array_equal(new(z, training=False), old(z, training=False))
    images = trained.generator(z, training=False)
    np.testing.assert_array_equal(
        gan.discriminator(images, training=False), trained.discriminator(images, training=False)
    )
    assert not np.array_equal(trained.generator(z), trained.ema_generator(z))  # a real check
    # A new run: step 0, fresh optimizers, its own random streams.
    assert int(gan.train_steps.numpy()) == 0
    assert int(gan.d_optimizer.iterations.numpy()) == int(gan.g_optimizer.iterations.numpy()) == 0
    for state, before in zip(gan._random_states(), seeds, strict=True):
        np.testing.assert_array_equal(np.array(state), before)


@pytest.mark.slow  # a second source run
def test_a_source_without_ema_initialises_the_ema_copy_from_its_generator(tmp_path):
    trained = tiny_gan(ema_decay=None)
    fit(trained, steps=1)
    path = str(tmp_path / "no_ema.weights.h5")
    trained.save_weights(path)
    gan = tiny_gan()
    finetune.load_initial_weights(gan, path)
    z = latents()
    np.testing.assert_array_equal(gan.ema_generator(z), trained.generator(z))


@pytest.mark.parametrize("kind", ["prefix", "weights"])
@pytest.mark.parametrize(
    "other, first_difference",
    [
        # The checkpoint names our variables; the weights file Keras's storage paths.
        (dict(width=8), r"generator/(linear/kernel|blocks/generator_block/bn1/vars/0)"),
        (dict(family="stylegan2"), r"generator"),
    ],
    ids=["width", "family"],
)
def test_init_from_another_architecture_names_the_differing_weights(
    source, kind, other, first_difference
):
    _, paths = source
    gan = tiny_gan(**other)
    before = values(gan.generator.weights + gan.discriminator.weights)
    with pytest.raises(finetune.InitFromError, match="architecture") as error:
        finetune.load_initial_weights(gan, paths[kind])
    assert re.search(first_difference + r".*this model \(\d+.*\), source \(\d+", str(error.value))
    for weight, value in zip(
        gan.generator.weights + gan.discriminator.weights, before, strict=True
    ):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_missing_or_corrupt_paths_are_clear_errors(source, tmp_path):
    _, paths = source
    gan = tiny_gan()
    with pytest.raises(finetune.InitFromError, match="does not exist"):
        finetune.load_initial_weights(gan, str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(finetune.InitFromError, match="without checkpoints"):
        finetune.load_initial_weights(gan, str(tmp_path / "empty"))
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    with pytest.raises(finetune.InitFromError, match="notes.txt', a file that is neither"):
        finetune.load_initial_weights(gan, str(tmp_path / "notes.txt"))
    index = paths["prefix"] + ".index"
    with pytest.raises(finetune.InitFromError, match="one file of the checkpoint .* prefix"):
        finetune.load_initial_weights(gan, index)
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"not an HDF5 file")
    with pytest.raises(finetune.InitFromError, match="could not be read"):
        finetune.load_initial_weights(gan, str(garbage))
    # A checkpoint whose data file is cut short (what is left holds no whole network).
    prefix = tmp_path / "ckpt-1"
    for suffix in (".index", ".data-00000-of-00001"):
        data = open(paths["prefix"] + suffix, "rb").read()
        (tmp_path / f"ckpt-1{suffix}").write_bytes(data[:100] if "data" in suffix else data)
    with pytest.raises(finetune.InitFromError, match="could not be read"):
        finetune.load_initial_weights(gan, str(prefix))


# --- train.py ----------------------------------------------------------------------------

TINY_RUN = [*TINY, "--steps=2", "--ckpt_every=2", "--sample_every=2", "--eval_every=2"]


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """A run directory with a checkpoint of the GAN that train.py builds for TINY_RUN."""
    run_dir = tmp_path_factory.mktemp("train") / "source"
    gan = build.build_gan(recipes.resolve("demo", {"width": 2, "resolution": 32}))
    tf.train.Checkpoint(**gan.checkpoint_items()).save(str(run_dir / "checkpoints" / "ckpt"))
    return run_dir


@pytest.mark.slow  # fine-tuning through the command line; in process above
def test_train_py_records_init_from_and_freeze_d(source_run, tmp_path):
    run_dir = tmp_path / "finetuned"
    result = run_train(
        *TINY_RUN,
        f"--run_dir={run_dir}",
        f"--init_from={source_run}",
        "--freeze_d=2",
        "--export=false",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["init_from"], config["freeze_d"]) == (str(source_run), 2)
    report = (run_dir / "report.md").read_text()
    assert f"initialised from `{source_run}/checkpoints/ckpt-1`" in report
    assert "frozen (FreezeD): 2" in report


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--width=4"], "this model (128, 256), source (128, 128)"),
        (["--resolution=64"], "Expected --init_from to hold this run's architecture"),
        (["--init_from=/nonexistent/run"], "which does not exist"),
        (["--freeze_d=5"], "Expected between 0 and 4 frozen discriminator blocks"),
    ],
    ids=["width", "resolution", "missing", "freeze_d"],
)
def test_train_py_refuses_a_bad_init_from_before_writing_anything(
    source_run, tmp_path, flags, message
):
    run_dir = tmp_path / "refused"  # the command line in this process: no start-up per case
    args = [*TINY_RUN, f"--run_dir={run_dir}", f"--init_from={source_run}", *flags]
    result = run_in_process(*args)
    assert result.returncode == 2, result.stderr[-3000:]
    assert message in result.stderr
    assert not os.path.exists(run_dir)
