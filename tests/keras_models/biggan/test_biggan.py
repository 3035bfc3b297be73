"""keras_models.biggan: BigGAN generator, projection discriminator, presets."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_diffaug
from keras_models.biggan import PRESETS, Discriminator, Generator
from keras_models.biggan.param_count import preset_counts
from keras_models.gan import GAN
from keras_models.recipes import TRAINING
from tests.helpers.checks import (
    assert_backbone_interface,
    assert_config_round_trip,
    assert_keras_save_load,
    assert_two_replicas_take_the_step_of_one,
    run_graph_and_xla,
)
from tests.helpers.toy_gan import Shift

ROOT = pathlib.Path(__file__).resolve().parents[3]
BATCH = 3
# Smallest widths that keep every layer non-degenerate (attention needs >= 8 channels).
TINY_WIDTH = {"cifar32": 4, "imagenet128": 8}


def _tiny(name, conditional=True, **overrides):
    """A tiny (G, D) pair of preset `name` (built at construction)."""
    if not conditional:
        overrides.update(num_classes=None)
    g_overrides = dict(overrides)
    if not conditional and PRESETS[name]["generator"]["shared_embedding_dim"] is not None:
        g_overrides["shared_embedding_dim"] = None
    g = Generator.from_preset(name, width=TINY_WIDTH[name], **g_overrides)
    d = Discriminator.from_preset(name, width=TINY_WIDTH[name], **overrides)
    return g, d


def _inputs(g, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(BATCH, g.latent_dim)).astype("float32")
    if g.num_classes is None:
        return z
    if labels is None:
        labels = rng.integers(0, g.num_classes, size=BATCH)
    return [z, np.asarray(labels, "int32")]


def _with_images(inputs, images):
    return [images, inputs[1]] if isinstance(inputs, list) else images


@pytest.fixture(scope="module")
def cifar():
    return _tiny("cifar32")


@pytest.mark.parametrize("conditional", [True, False], ids=["conditional", "unconditional"])
@pytest.mark.parametrize(
    "name",
    ["cifar32", pytest.param("imagenet128", marks=pytest.mark.slow)],  # 128 px, width 96
)
def test_shapes_and_range(name, conditional):
    g, d = _tiny(name, conditional)
    inputs = _inputs(g)
    images = np.asarray(g(inputs, training=True))
    side = PRESETS[name]["generator"]["resolution"]
    assert images.shape == (BATCH, side, side, 3)
    assert np.all(np.isfinite(images)) and np.abs(images).max() <= 1.0
    assert images.std() > 1e-3  # not a constant image
    logits = d(_with_images(inputs, images), training=True)
    assert logits.shape == (BATCH, 1) and logits.dtype == "float32"


def test_generator_uses_labels_per_sample(cifar):
    g, _ = cifar
    z, labels = _inputs(g)
    other = labels.copy()
    other[0] = (labels[0] + 1) % g.num_classes
    # Inference mode: moving statistics, so samples do not interact through the batch.
    a = np.asarray(g([z, labels], training=False))
    b = np.asarray(g([z, other], training=False))
    assert np.abs(a[0] - b[0]).max() > 1e-4
    np.testing.assert_allclose(a[1:], b[1:], atol=1e-6)


def test_projection_discriminator_uses_labels_per_sample(cifar):
    _, d = cifar
    images = np.random.default_rng(1).uniform(-1, 1, size=(BATCH, 32, 32, 3)).astype("float32")
    labels = np.array([0, 1, 2], "int32")
    other = np.array([5, 1, 2], "int32")
    a = np.asarray(d([images, labels], training=False))
    b = np.asarray(d([images, other], training=False))
    assert abs(a[0, 0] - b[0, 0]) > 1e-5
    np.testing.assert_allclose(a[1:], b[1:], rtol=1e-6)


def test_hierarchical_z_reaches_the_last_block():
    g = Generator.from_preset("imagenet128", width=8, resolution=32, attention_resolutions=())
    g.build(g.call_input_shape)
    z, labels = _inputs(g)
    chunk = g.latent_dim // (len(g.blocks) + 1)
    assert g.linear.kernel.shape[0] == chunk
    assert g.blocks[-1].bn2.gain.kernel.shape[0] == 128 + chunk  # [embedding, z chunk]
    moved = z.copy()
    moved[:, -chunk:] += 1.0  # only the last chunk, which feeds only the last block
    a = np.asarray(g([z, labels], training=False))
    b = np.asarray(g([moved, labels], training=False))
    assert np.abs(a - b).max() > 1e-4


def test_attention_placement_and_deterministic_names():
    g, d = _tiny("imagenet128", kernel_initializer="zeros")  # names do not depend on init
    g2, d2 = _tiny("imagenet128", kernel_initializer="zeros")
    g_paths = [w.path for w in g.weights]
    d_paths = [w.path for w in d.weights]
    assert g_paths == [w.path for w in g2.weights]
    assert d_paths == [w.path for w in d2.weights]
    # Attention at 64x64: after G's 4th up-block (8->...->64), after D's 1st down-block.
    assert "generator/attention4/gamma" in g_paths
    assert "discriminator/attention1/gamma" in d_paths
    assert "generator/block5/bn2/gain/kernel" in g_paths
    assert "discriminator/embedding/embeddings" in d_paths
    # No shortcut conv in D's last block (same channels, no downsampling).
    assert not any(p.startswith("discriminator/block6/shortcut") for p in d_paths)


def _pinned_cifar32_counts(width=64):
    """Trainable parameters of "cifar32" derived by hand (ch = 64: 256 channels; 10 classes)."""
    c, k, z, n = 4 * width, 9, 128, 10
    conv3, conv1 = k * c * c + c, c * c + c
    g_block = 2 * conv3 + conv1 + 2 * (2 * n * c)  # convs, shortcut, two class-cond BNs
    g = (z * 16 * c + 16 * c) + 3 * g_block + 2 * c + (k * c * 3 + 3)
    d_first = (k * 3 * c + c) + conv3 + (3 * c + c)  # optimized block, 1x1 shortcut
    d = d_first + (2 * conv3 + conv1) + 2 * (2 * conv3) + (c + 1) + n * c
    return g, d


@pytest.mark.parametrize(
    "name, expected",
    [
        ("cifar32", _pinned_cifar32_counts()),
        # compare_gan resnet_biggan_test.py pins (G, D) = (70,433,988, 87,982,370).
        ("imagenet128", (70_433_988, 87_982_370)),
    ],
)
def test_full_preset_parameter_counts(name, expected):
    assert preset_counts(name)[:2] == expected


def test_backbone_interface(tmp_path):
    assert_backbone_interface(
        Generator.from_preset("cifar32", width=4),
        Discriminator.from_preset("cifar32", width=4),
        tmp_path,
        width=4,
        block_names=["block1", "block2", "block3", "block4"],
        trainable_counts=_pinned_cifar32_counts(width=4),
    )
    # Self-attention is a block of its own, where the image passes it.
    d = Discriminator.from_preset("imagenet128", width=8)
    names = ["block1", "attention1", "block2", "block3", "block4", "block5", "block6"]
    assert [b.name for b in d.blocks_from_input()] == names


def test_sn_epsilon_reaches_every_spectral_norm_layer():
    # imagenet128 has every kind: SN linear, convs, CBN projections, attention, embedding.
    g, d = _tiny("imagenet128", sn_epsilon=1e-3)
    for model in (g, d):
        sn_layers = [layer for layer in model._flatten_layers() if hasattr(layer, "sn_u")]
        assert len(sn_layers) == sum("sn_u" in w.path for w in model.weights) > 10
        assert {layer.epsilon for layer in sn_layers} == {1e-3}
        assert assert_config_round_trip(model).sn_epsilon == 1e-3


def test_presets_use_their_scripts_small_numbers():
    # DiffAugment's utils.py defaults; launch_BigGAN_bs256x8.sh's --SN_eps; the Adam
    # epsilon of the ImageNet recipe is compare_gan's (tf.train.AdamOptimizer's 1e-8).
    for name, sn_eps in (("cifar32", 1e-8), ("imagenet128", 1e-6)):
        assert TRAINING["biggan"][name]["adam_epsilon"] == 1e-8
        # Tiny widths: the full models take half a minute to initialise.
        assert Generator.from_preset(name, width=TINY_WIDTH[name]).sn_epsilon == sn_eps
        assert Discriminator.from_preset(name, width=TINY_WIDTH[name]).sn_epsilon == sn_eps


def test_config_round_trip(cifar):
    for model in cifar:
        clone = assert_config_round_trip(model)
        clone.build(clone.call_input_shape)
        assert [(w.path, w.shape) for w in clone.weights] == [
            (w.path, w.shape) for w in model.weights
        ]


@pytest.mark.parametrize("conditional", [True, False], ids=["conditional", "unconditional"])
def test_keras_save_load(conditional, tmp_path):
    g, d = _tiny("cifar32", conditional)
    inputs = _inputs(g)
    images = g(inputs, training=True)  # also moves BN statistics and SN vectors
    for sub in ("g", "d"):
        (tmp_path / sub).mkdir()
    assert_keras_save_load(g, inputs, tmp_path / "g")
    assert_keras_save_load(d, _with_images(inputs, np.asarray(images)), tmp_path / "d")


def test_graph_and_xla_agree(cifar):
    g, d = cifar
    z, labels = _inputs(g)
    forward = lambda z, y: d([g([z, y], training=False), y], training=False)
    graph, xla = run_graph_and_xla(forward, z, labels)
    np.testing.assert_allclose(graph, xla, rtol=1e-3, atol=1e-3)


def test_mixed_precision_keeps_float32_state_and_logits():
    g, d = _tiny("imagenet128", dtype="mixed_float16", resolution=64, attention_resolutions=(32,))
    inputs = _inputs(g)
    images = g(inputs, training=True)
    logits = d(_with_images(inputs, images), training=True)
    assert images.dtype == "float16" and logits.dtype == "float32"
    assert np.all(np.isfinite(np.asarray(images, "float32"))) and np.all(np.isfinite(logits))
    assert all(w.dtype == "float32" for w in g.weights + d.weights)


def test_calling_convention_errors(cifar):
    g, d = cifar
    z, labels = _inputs(g)
    with pytest.raises(ValueError, match=r"generator\(\[latents, labels\]\)"):
        g(z)
    unconditional = Generator(num_classes=None, width=4)
    with pytest.raises(ValueError, match=r"called as generator\(latents\)"):
        unconditional([z, labels])
    with pytest.raises(ValueError, match=r"discriminator\(\[images, labels\]\)"):
        d(np.zeros((1, 32, 32, 3), "float32"))
    with pytest.raises(ValueError, match="resolutions"):
        Discriminator(resolution=48)
    with pytest.raises(ValueError, match="Unknown BigGAN preset"):
        Generator.from_preset("cifar")
    with pytest.raises(ValueError, match="equal chunks"):
        Generator.from_preset("imagenet128", latent_dim=128)
    with pytest.raises(ValueError, match="block outputs"):
        Discriminator.from_preset("imagenet128", resolution=64)


def _fit_one_step(jit_compile, strategy):
    with strategy.scope():
        g, d = _tiny("cifar32")
        gan = GAN(
            g,
            d,
            latent_dim=g.latent_dim,
            augment=tf_diffaug.DiffAugment("translation,cutout", seed=0),
            num_classes=g.num_classes,
            # Not hinge: with every logit inside the hinge margin, D's output bias gets an
            # exactly zero gradient (real and fake terms cancel), whatever the draws.
            loss="non_saturating",
            seed=0,
        )
        gan.compile(
            d_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.999),
            g_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.999),
            jit_compile=jit_compile,
        )
    before = {w.path: np.asarray(w) for w in g.trainable_weights + d.trainable_weights}
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(4, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, size=4).astype("int32")
    dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
    history = gan.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0]) and np.isfinite(history.history["g_loss"][0])
    unchanged = [
        w.path
        for w in g.trainable_weights + d.trainable_weights
        if np.array_equal(np.asarray(w), before[w.path])
    ]
    assert not unchanged


@pytest.mark.slow  # BigGAN's XLA compile on CPU; the XLA step of the GAN is in gan/test_d_steps.py
def test_gan_fit_step_under_jit_compile_updates_all_weights():
    _fit_one_step(jit_compile=True, strategy=tf.distribute.get_strategy())


def test_two_replicas_take_the_step_of_one_with_the_same_global_batch():
    # G's batch norm uses each replica's own batch statistics, so it is synchronised
    # here: then only the step's loss scaling and gradient sum decide the comparison.
    # Keras wraps the whole multi-replica step in one XLA cluster when jit_compile=True,
    # which XLA cannot place on two devices, so the distributed run is in graph mode.
    def make_gan():
        keras.utils.set_random_seed(0)
        g, d = _tiny("cifar32")
        for layer in g._flatten_layers():
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True
        gan = GAN(
            g,
            d,
            latent_dim=g.latent_dim,
            augment=Shift(),  # deterministic: DiffAugment's draws differ per replica
            num_classes=g.num_classes,
            loss="non_saturating",
            ema_decay=0.9,
            seed=0,
        )
        sgd = keras.optimizers.SGD
        gan.compile(d_optimizer=sgd(0.1), g_optimizer=sgd(0.1), jit_compile=False)
        return gan

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(4, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, size=4).astype("int32")
    assert_two_replicas_take_the_step_of_one(make_gan, (images, labels))


@pytest.mark.slow  # a fresh TensorFlow process; a regression check of a C++ log line
def test_graph_mode_gan_step_keeps_grappler_remapper():
    # TensorFlow logs the remapper's failure from C++ only, hence a fresh process with the
    # log level that shows it. The cifar32 D (two identity-shortcut blocks) used to fail it.
    script = (
        "import tensorflow as tf\n"
        "from tests.keras_models.biggan.test_biggan import _fit_one_step\n"
        "_fit_one_step(jit_compile=False, strategy=tf.distribute.get_strategy())\n"
    )
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0", "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "remapper failed" not in result.stderr
