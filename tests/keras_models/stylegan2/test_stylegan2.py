"""Tests for keras_models.stylegan2 (generator, discriminator, presets, regulariser)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_diffaug
from keras_models import data
from keras_models.gan import GAN
from keras_models.layers.noise import NoiseInjection
from keras_models.recipes import TRAINING
from keras_models.stylegan2 import PRESETS, Discriminator, Generator, PathLengthRegularizer
from keras_models.stylegan2.discriminator import ResidualBlock
from keras_models.stylegan2.generator import SynthesisLayer
from tests.helpers.checks import (
    assert_backbone_interface,
    assert_config_round_trip,
    assert_keras_save_load,
    assert_two_replicas_take_the_step_of_one,
    run_graph_and_xla,
    two_replica_strategy,
)
from tests.helpers.toy_gan import Shift

LATENT = 16
TINY = {"latent_dim": LATENT, "w_dim": LATENT, "fmap_base": 128}


def tiny_generator(resolution=32, **kwargs):
    g = Generator(**{"resolution": resolution, "seed": 1, **TINY, **kwargs})
    g.build([(None, LATENT), (None,)] if g.num_classes else (None, LATENT))
    return g


def tiny_discriminator(resolution=32, **kwargs):
    d = Discriminator(**{"resolution": resolution, "fmap_base": 128, **kwargs})
    shape = (None, resolution, resolution, 3)
    d.build([shape, (None,)] if d.num_classes else shape)
    return d


def latents(batch, seed=0):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, LATENT)), tf.float32)


def set_noise_strength(generator, value):
    for layer in generator.synthesis.convs:
        layer.noise.strength.assign(value)


# Shapes, names, presets -----------------------------------------------------------------


@pytest.mark.parametrize("resolution", [32, 64, 256])
def test_shapes_per_resolution(resolution):
    fmap = {"fmap_base": 64}
    g = tiny_generator(resolution, **fmap)
    d = tiny_discriminator(resolution, **fmap)
    images = g(latents(2), training=True)
    assert images.shape == (2, resolution, resolution, 3)
    assert d(images).shape == (2, 1)
    log2 = int(np.log2(resolution))
    assert g.num_ws == 2 * log2 - 2
    assert g.styles(latents(2)).shape == (2, g.num_ws, LATENT)
    # toRGB at every resolution; two convs per resolution above 4x4.
    assert [t.name for t in g.synthesis.torgbs] == [f"b{2**r}_torgb" for r in range(2, log2 + 1)]
    assert len(g.synthesis.convs) == 2 * log2 - 3


def test_layer_names_are_deterministic():
    g1, g2 = tiny_generator(name="g"), tiny_generator(name="g")
    paths = [w.path for w in g1.weights]
    assert paths == [w.path for w in g2.weights]
    assert "g/synthesis/b8_conv0/conv/kernel" in paths
    assert "g/mapping/fc7/kernel" in paths
    d = tiny_discriminator(name="d")
    assert "d/b32/skip/kernel" in [w.path for w in d.weights]


def _reference_parameter_counts(fmap_base, resolution, w_dim=512):
    """Trainable parameters of the reference StyleGAN2 (networks_stylegan2.py layout:
    G_mapping + G_synthesis_stylegan2 "skip", D_stylegan2 "resnet"), counted by hand."""

    def nf(stage):
        return min(max(fmap_base >> stage, 1), 512)

    def modulated(k, c_in, c_out, noise=1):  # weight, style affine, noise strength, bias
        return k * k * c_in * c_out + (w_dim + 1) * c_in + noise + c_out

    log2 = int(np.log2(resolution))
    g = 8 * (w_dim * w_dim + w_dim) + 16 * nf(1)
    g += modulated(3, nf(1), nf(1)) + modulated(1, nf(1), 3, noise=0)
    for r in range(3, log2 + 1):
        g += modulated(3, nf(r - 2), nf(r - 1)) + modulated(3, nf(r - 1), nf(r - 1))
        g += modulated(1, nf(r - 1), 3, noise=0)
    d = 4 * nf(log2 - 1)
    for r in range(log2, 2, -1):
        a, b = nf(r - 1), nf(r - 2)
        d += 9 * a * a + a + 9 * a * b + b + a * b  # conv0, conv1_down, skip (no bias)
    d += 9 * (nf(1) + 1) * nf(1) + nf(1) + 16 * nf(1) * nf(0) + nf(0) + nf(0) + 1
    return g, d


def test_cifar32_preset_widths_and_parameter_counts():
    """fmap_base 2048 gives 512 channels up to 8x8, then 256, 128 (DiffAugment CIFAR), and
    the parameter counts equal the reference architecture's."""
    g = Generator.from_preset("cifar32")
    d = Discriminator.from_preset("cifar32")
    g.build((None, 512))
    d.build((None, 32, 32, 3))
    assert [c.filters for c in g.synthesis.convs] == [512, 512, 512, 256, 256, 128, 128]
    assert [b.filters1 for b in d.blocks] == [256, 512, 512]
    g_count = sum(int(np.prod(w.shape)) for w in g.trainable_weights)
    assert (g_count, d.count_params()) == _reference_parameter_counts(2048, 32)
    assert (g_count, d.count_params()) == (13_506_963, 13_918_849)  # pinned


def test_backbone_interface(tmp_path):
    g = Generator.from_preset("cifar32", width=128, latent_dim=LATENT, w_dim=LATENT)
    assert_backbone_interface(
        g,
        Discriminator.from_preset("cifar32", fmap_base=128),  # the alias of width
        tmp_path,
        width=128,
        block_names=["b32_fromrgb", "b32", "b16", "b8"],
        trainable_counts=_reference_parameter_counts(128, 32, w_dim=LATENT),
    )


def test_from_preset_overrides_and_unknown_name():
    g = Generator.from_preset("fewshot256", fmap_base=64, resolution=32, latent_dim=8, w_dim=8)
    config = g.get_config()
    # `fmap_base` is the alias of the backbones' shared `width`, which the config holds.
    assert (config["resolution"], config["width"], config["latent_dim"]) == (32, 64, 8)
    assert g.fmap_base == g.width == 64
    assert set(PRESETS) == {"cifar32", "fewshot256", "ffhq1024"}
    assert TRAINING["stylegan2"]["cifar32"]["r1_gamma"] == 0.1  # how its source trained it
    with pytest.raises(ValueError, match="cifar32"):
        Generator.from_preset("imagenet128")


def test_inputs_are_checked_against_num_classes():
    with pytest.raises(ValueError, match="labels"):
        tiny_generator(num_classes=10)(latents(2))
    with pytest.raises(ValueError, match="single"):
        tiny_generator()([latents(2), tf.zeros((2,), tf.int32)])


# Generator behaviour --------------------------------------------------------------------


def test_noise_strength_zero_makes_g_deterministic():
    g = tiny_generator()
    z = latents(3)
    set_noise_strength(g, 0.0)
    np.testing.assert_array_equal(g(z).numpy(), g(z).numpy())
    set_noise_strength(g, 0.3)
    assert not np.allclose(g(z).numpy(), g(z).numpy())


def test_w_avg_tracks_the_batch_mean_in_training_only():
    g = tiny_generator(w_avg_beta=0.9, style_mixing_prob=0.0)
    z = latents(4)
    g(z)
    np.testing.assert_array_equal(g.w_avg.numpy(), 0.0)
    g(z, training=True)
    expected = 0.1 * np.mean(g.mapping(z).numpy(), axis=0)
    np.testing.assert_allclose(g.w_avg.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_truncation_psi_zero_gives_the_average_w_image_for_every_z():
    g = tiny_generator(w_avg_beta=0.5)
    for seed in range(3):
        g(latents(4, seed), training=True)
    z = latents(5, seed=9)
    images = g(z, truncation_psi=0.0).numpy()
    w_avg = np.tile(g.w_avg.numpy()[None, None], [1, g.num_ws, 1])
    expected = g.synthesis(tf.constant(w_avg)).numpy()[0]
    for image in images:
        np.testing.assert_allclose(image, expected, rtol=1e-5, atol=1e-5)
    # psi = 1 is the identity; a cutoff leaves later layers untouched.
    np.testing.assert_allclose(g(z, truncation_psi=1.0).numpy(), g(z).numpy())
    ws, cut = g.styles(z).numpy(), g.styles(z, truncation_psi=0.0, truncation_cutoff=2).numpy()
    np.testing.assert_array_equal(cut[:, 2:], ws[:, 2:])
    np.testing.assert_allclose(cut[:, :2], np.broadcast_to(g.w_avg.numpy(), cut[:, :2].shape))


def test_style_mixing_swaps_a_suffix_of_the_styles_in_training():
    z = latents(8)
    g = tiny_generator(style_mixing_prob=1.0)
    ws = g.styles(z, training=True).numpy()
    w = g.mapping(z).numpy()
    for sample in range(8):
        first = np.all(np.isclose(ws[sample], w[sample], atol=1e-6), axis=-1)
        cutoff = int(np.argmin(first))
        # Layers [0, cutoff) keep w(z); [cutoff, num_ws) share another w; 1 <= cutoff.
        assert 1 <= cutoff < g.num_ws and first[:cutoff].all() and not first[cutoff:].any()
        np.testing.assert_allclose(
            ws[sample, cutoff:], ws[sample, -1:].repeat(g.num_ws - cutoff, 0), atol=1e-6
        )
    # Mixing changes the images; without it, training and inference images agree.
    assert not np.allclose(g(z, training=True).numpy(), g(z).numpy(), atol=1e-4)
    g0 = tiny_generator(style_mixing_prob=0.0)
    np.testing.assert_allclose(g0(z, training=True).numpy(), g0(z).numpy(), atol=1e-6)


def test_style_mixing_is_reproducible_with_a_seed():
    z = latents(4)
    g1, g2 = (tiny_generator(style_mixing_prob=0.5, seed=5) for _ in range(2))
    g2.set_weights(g1.get_weights())
    a, b = g1.styles(z, training=True), g2.styles(z, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), g1.styles(z, training=True).numpy())


def test_class_conditioning_changes_outputs():
    g = tiny_generator(num_classes=10)
    d = tiny_discriminator(num_classes=10)
    z = latents(2)
    images = g([z, tf.constant([1, 1])]).numpy()
    other = g([z, tf.constant([1, 7])]).numpy()
    np.testing.assert_allclose(images[0], other[0], atol=1e-6)
    assert not np.allclose(images[1], other[1], atol=1e-4)
    d.embed.kernel.assign(tf.random.normal(d.embed.kernel.shape))
    logits = d([images, tf.constant([1, 1])]).numpy()
    assert logits[0] == pytest.approx(d([images, tf.constant([1, 3])]).numpy()[0])
    assert logits[1] != pytest.approx(d([images, tf.constant([1, 3])]).numpy()[1])


# Discriminator ----------------------------------------------------------------------------


def test_discriminator_minibatch_std_with_batch_6_couples_groups_of_3():
    """Batch 6, group size 4: groups of 3 samples {0, 2, 4} and {1, 3, 5}."""
    d = tiny_discriminator()
    images = tf.random.normal((6, 32, 32, 3), seed=1)
    logits = d(images).numpy()
    assert logits.shape == (6, 1)
    changed = d(tf.tensor_scatter_nd_add(images, [[0]], tf.ones((1, 32, 32, 3)))).numpy()
    moved = ~np.isclose(changed[:, 0], logits[:, 0], atol=1e-6)
    np.testing.assert_array_equal(moved, [True, False, True, False, True, False])


# Serialization and compilation ----------------------------------------------------------


def test_configs_round_trip():
    g = tiny_generator(num_classes=3, taps=[1, 1])
    for model in (
        g,
        g.mapping,
        g.synthesis,
        SynthesisLayer(8, up=True, taps=[1, 1], seed=2),
        tiny_discriminator(num_classes=3, mbstd_group_size=2),
        ResidualBlock(4, 8, taps=[1, 1]),
        NoiseInjection(seed=5),
    ):
        assert_config_round_trip(model)
    assert_config_round_trip(PathLengthRegularizer(weight=1.0, interval=2, batch_shrink=3, seed=3))


@pytest.mark.parametrize("num_classes", [None, 4])
def test_keras_save_load_identical_outputs(num_classes, tmp_path):
    g = tiny_generator(num_classes=num_classes)
    d = tiny_discriminator(num_classes=num_classes)
    z, labels = latents(2), tf.constant([0, 3])
    g(z if num_classes is None else [z, labels], training=True)  # non-zero w_avg
    g_inputs = z if num_classes is None else [z, labels]
    images = g(g_inputs)
    d_inputs = images if num_classes is None else [images, labels]
    (tmp_path / "g").mkdir()
    (tmp_path / "d").mkdir()
    loaded = assert_keras_save_load(
        g, g_inputs, tmp_path / "g", call=lambda m, x: m(x, truncation_psi=0.5)
    )
    np.testing.assert_array_equal(loaded.w_avg.numpy(), g.w_avg.numpy())
    assert_keras_save_load(d, d_inputs, tmp_path / "d")


def test_xla_matches_graph():
    g, d = tiny_generator(16, mapping_layers=2), tiny_discriminator(16)
    z = latents(4)

    def forward(z):
        images = g(z, truncation_psi=0.7)
        return images, d(images)

    graph, xla = run_graph_and_xla(forward, z)
    for a, b in zip(graph, xla, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.slow  # StyleGAN2's XLA compile on CPU; the GAN's XLA step: gan/test_d_steps.py
def test_training_step_compiles_with_xla():
    """A G+D non-saturating step with path-length regularisation (double back-prop
    through the FIR filters) compiles under XLA and changes the weights."""
    g, d = tiny_generator(8, mapping_layers=2), tiny_discriminator(8)
    pl = PathLengthRegularizer(seed=0)
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(g.trainable_variables + d.trainable_variables)
    z = latents(4)
    d(g(z))

    @tf.function(jit_compile=True)
    def step(z):
        with tf.GradientTape() as tape:
            fake_logits = d(g(z, training=True), training=True)
            loss = tf.reduce_mean(tf.nn.softplus(-fake_logits)) + tf.reduce_mean(
                pl.penalty(g, z[:2])
            )
        variables = g.trainable_variables + d.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    before = [v.numpy() for v in g.trainable_variables]
    assert np.isfinite(step(z).numpy())
    assert pl.mean_length.numpy() > 0
    changed = [
        not np.array_equal(b, v.numpy()) for b, v in zip(before, g.trainable_variables, strict=True)
    ]
    assert all(changed)


# Path-length regulariser ----------------------------------------------------------------


def test_path_length_penalty_and_lazy_schedule():
    g = tiny_generator(style_mixing_prob=0.0)
    pl = PathLengthRegularizer(weight=2.0, decay=0.5, interval=4, batch_shrink=2, seed=0)
    z = latents(4)
    with tf.GradientTape() as tape:
        penalty = pl.penalty(g, z)
        total = tf.reduce_sum(penalty)
    # Independent path lengths, with the same projection noise (same seed, first draw).
    ws = g.styles(z)
    with tf.GradientTape() as inner:
        inner.watch(ws)
        images = g.synthesis(ws)
        noise = keras.random.normal(images.shape, seed=keras.random.SeedGenerator(0))
        projected = tf.reduce_sum(images * noise) / np.sqrt(32 * 32)
    jacobian_t_y = inner.gradient(projected, ws).numpy()
    lengths = np.sqrt(np.mean(np.sum(jacobian_t_y**2, axis=2), axis=1))
    mean = 0.5 * lengths.mean()  # first update from 0 with decay 0.5
    np.testing.assert_allclose(pl.mean_length.numpy(), mean, rtol=1e-4)
    np.testing.assert_allclose(penalty.numpy(), 2.0 * (lengths - mean) ** 2, rtol=1e-3)
    # Double back-propagation reaches the mapping and the synthesis weights.
    reached = [g.mapping.dense[0].kernel, g.synthesis.convs[1].conv.kernel]
    assert all(grad is not None for grad in tape.gradient(total, reached))

    class FakeGAN:  # the attributes the GAN hook reads
        generator, num_classes = g, None
        train_steps = tf.Variable(0, dtype=tf.int64)

    gan = FakeGAN()
    due = pl(gan, z).numpy()
    assert np.all(due[2:] == 0) and np.all(due[:2] > 0)  # first 1/batch_shrink rows
    gan.train_steps.assign(1)
    np.testing.assert_array_equal(pl(gan, z).numpy(), 0.0)


# Training through keras_models.GAN --------------------------------------------------------


@pytest.mark.slow  # BigGAN's and the GAN's parity tests run by default
def test_two_replicas_take_the_step_of_one_with_the_same_global_batch():
    # What is drawn per replica is switched off (DiffAugment, style mixing, the
    # path-length noise), the minibatch std groups single samples (its strided groups
    # depend on the per-replica batch), and the noise strengths, whose gradients depend
    # on per-replica noise draws, are left out. `w_avg` must be the mean over replicas
    # of their batch means, i.e. the global batch's.
    def make_gan():
        keras.utils.set_random_seed(0)
        g = tiny_generator(16, mapping_layers=2, style_mixing_prob=0.0, w_avg_beta=0.5)
        gan = GAN(
            g,
            tiny_discriminator(16, mbstd_group_size=1),
            latent_dim=LATENT,
            augment=Shift(),
            loss="non_saturating",
            r1_gamma=0.1,
            ema_decay=0.9,
            seed=0,
        )
        sgd = keras.optimizers.SGD
        gan.compile(d_optimizer=sgd(0.1), g_optimizer=sgd(0.1), jit_compile=False)
        return gan

    reals = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    paths, one = assert_two_replicas_take_the_step_of_one(make_gan, reals, exclude=("noise",))
    w_avg = next(w for path, w in zip(paths, one, strict=True) if path.endswith("w_avg"))
    assert np.abs(w_avg).min() > 0  # compared above: it moved to the same value


@pytest.mark.slow  # two-replica parity stays in test_two_replicas_take_the_step_of_one_...
def test_one_gan_fit_step_under_mirrored_strategy():
    strategy = two_replica_strategy()
    with strategy.scope():
        g, d = tiny_generator(16, mapping_layers=2), tiny_discriminator(16)
        gan = GAN(
            g,
            d,
            latent_dim=LATENT,
            augment=tf_diffaug.DiffAugment("color,translation,cutout"),
            loss="non_saturating",
            r1_gamma=0.1,
            g_regularizer=PathLengthRegularizer(interval=1, seed=0),
            seed=0,
        )
        gan.compile(
            d_optimizer=keras.optimizers.Adam(2e-3, 0.0, 0.99),
            g_optimizer=keras.optimizers.Adam(2e-3, 0.0, 0.99),
        )
    reals = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(reals).batch(8).repeat()
    before = [v.numpy() for v in g.trainable_variables]
    history = gan.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0)
    for name in ("d_loss", "g_loss"):
        assert np.isfinite(history.history[name][0])
    assert any(
        not np.array_equal(b, v.numpy()) for b, v in zip(before, g.trainable_variables, strict=True)
    )


@pytest.mark.slow
def test_trains_through_gan_fit_on_a_64px_image_folder():
    """The issue's "done when": a small StyleGAN2 + DiffAugment trains through GAN.fit on a
    folder of images at 64 px (the shipped emoji faces): finite losses, and D separates
    reals from fakes."""
    g = Generator.from_preset("fewshot256", resolution=64, **TINY | {"fmap_base": 256, "seed": 0})
    d = Discriminator.from_preset("fewshot256", resolution=64, fmap_base=256)
    gan = GAN(
        g,
        d,
        latent_dim=LATENT,
        augment=tf_diffaug.DiffAugment(seed=0),
        loss="non_saturating",
        r1_gamma=1.0,
        r1_interval=4,
        ema_decay=0.99,
        g_regularizer=PathLengthRegularizer(seed=0),
        seed=0,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-3, 0.0, 0.99),
        g_optimizer=keras.optimizers.Adam(2e-3, 0.0, 0.99),
    )
    dataset = data.emoji_faces(64, batch_size=8, x_flip=True)
    history = gan.fit(dataset, steps_per_epoch=15, epochs=2, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert history["d_real_logits"][-1] > history["d_fake_logits"][-1]
    assert gan.generate(4).shape == (4, 64, 64, 3)
