"""LeCam regularisation (keras_models.LeCamRegularizer) against lecam-gan's formulas.

The hand computations follow google/lecam-gan: `ema_losses.update` (third_party/
utils.py) for the anchors, `lecam_reg` (biggan_cifar/losses.py) for the penalty, and
`GAN_training_function` (third_party/train_fns.py) for the order: anchors first, then
the penalty when `itr > start_itr`. In the fit tests the discriminator's logit is the
mean pixel of its input and the augmentation a flip, which keeps that mean, and the
generator draws one fixed image: every logit is known in advance.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags
from tensorflow.python.training import moving_averages

import keras_models
import tf_diffaug
from keras_models import build, recipes
from keras_models.cli import flags as cli_flags
from keras_models.config import ConfigError
from keras_models.lecam import debiased_update, lecam_penalty, update_anchor
from tests.helpers.checks import (
    assert_config_round_trip,
    assert_two_replicas_take_the_step_of_one,
    two_replica_strategy,
)
from tests.helpers.toy_gan import LATENT_DIM, SIZE, Shift, compile_gan, make_gan, unroll_d_steps

BATCH = 4


# --- the formulas ----------------------------------------------------------------------


def test_the_formulas_by_hand():
    assert float(update_anchor(1000.0, 2.0, 0.9)) == pytest.approx(900.2)
    assert float(update_anchor(1000.0, 2.0, 0.0)) == 2.0  # decay 0: the batch mean
    # Reals (1, 3) against a_fake = 2: relu(-1, 1)^2 -> mean 0.5; fakes (0, -2) against
    # a_real = 0.5: relu(0.5, 2.5)^2 -> mean 3.25.
    penalty = lecam_penalty(np.array([1.0, 3.0]), np.array([0.0, -2.0]), 0.5, 2.0)
    assert float(penalty) == pytest.approx(3.75)
    # Zero-debiased: the first anchor is the first mean, the second a weighted mean.
    anchor, biased, updates = debiased_update(0.0, 0.0, 4.0, 0.99)
    assert float(anchor) == pytest.approx(4.0) and float(updates) == 1.0
    anchor, _, _ = debiased_update(biased, updates, 2.0, 0.99)
    # float32: 1 - 0.99 ** 2 loses digits (the exact TF equality is the next test).
    want = (0.99 * 0.01 * 4.0 + 0.01 * 2.0) / (1 - 0.99**2)
    assert float(anchor) == pytest.approx(want, rel=1e-5)


def test_the_debiased_anchors_are_tensorflows_assign_moving_average():
    # lecam-gan's StyleGAN2 `lecamreg`: assign_moving_average(decay=0.99, zero_debias=True)
    # on a zero variable. Ours must give the very same float32 values.
    means = [0.3, -1.7, 2.5, 0.01, 4.0, -0.25]
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        variable = tf.compat.v1.get_variable("ema", shape=(), initializer=tf.zeros_initializer())
        mean = tf.compat.v1.placeholder(tf.float32, ())
        update = moving_averages.assign_moving_average(variable, mean, 0.99, zero_debias=True)
        session.run(tf.compat.v1.global_variables_initializer())
        reference = [session.run(update, {mean: m}) for m in means]
    biased, updates, ours = tf.constant(0.0), tf.constant(0.0), []
    for m in means:
        anchor, biased, updates = debiased_update(biased, updates, tf.constant(m), 0.99)
        ours.append(np.float32(anchor))
    np.testing.assert_array_equal(ours, np.float32(reference))


def reference_run(real_means, fake_means, start_step, decay=0.9, initial=1000.0):
    """lecam-gan's `ema_losses` and the penalty switch, in Python floats: per train step
    (itr) a list of D steps' (real mean, fake mean). Returns the anchors after each D
    step and whether the penalty was on."""
    a_real = a_fake = initial
    out = []
    for itr, steps in enumerate(zip(real_means, fake_means, strict=True)):
        d = 0.0 if itr < start_step else decay
        for real, fake in zip(*steps, strict=True):
            a_fake = a_fake * d + fake * (1 - d)
            a_real = a_real * d + real * (1 - d)
            out.append((a_real, a_fake, itr > start_step))
    return out


def test_the_layer_follows_ema_losses_and_the_start_step():
    layer = keras_models.LeCamRegularizer(weight=0.3, decay=0.9, start_step=2)
    layer.build()
    assert (float(layer.anchor_real), float(layer.anchor_fake)) == (1000.0, 1000.0)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 2, 2, BATCH)).astype("float32")  # itr, D step, real/fake
    means = logits.mean(axis=-1, dtype=np.float64)
    expected = reference_run(means[:, :, 0], means[:, :, 1], start_step=2)
    got = []
    for itr in range(5):
        for d_step in range(2):
            real, fake = logits[itr, d_step]
            step = tf.constant(itr, tf.int64)
            a_real, a_fake, state = layer.update(real, fake, step)
            terms, active = layer.penalty(real, fake, a_real, a_fake, step)
            for variable, value in state:
                variable.assign(value)
            got.append((float(a_real), float(a_fake), bool(active)))
            want = expected[len(got) - 1]
            want_penalty = lecam_penalty(real, fake, want[0], want[1]) if want[2] else 0.0
            assert float(np.mean(terms)) == pytest.approx(float(want_penalty), rel=1e-5)
    for (r, f, on), (want_r, want_f, want_on) in zip(got, expected, strict=True):
        assert (r, f, on) == (
            pytest.approx(want_r, rel=1e-5, abs=1e-6),
            pytest.approx(want_f, rel=1e-5, abs=1e-6),
            want_on,
        )
    # Steps 0, 1: the anchors are the batch means; step 2: decay 0.9, penalty still off.
    assert [on for _, _, on in got] == [False] * 6 + [True] * 4
    assert got[0][:2] == (pytest.approx(means[0, 0, 0]), pytest.approx(means[0, 0, 1]))


# --- in the GAN ----------------------------------------------------------------------------


class MeanLogit(keras.layers.Layer):
    """logit = mean pixel; a weight with a zero gradient, so that D never changes."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(), initializer="zeros")

    def call(self, images):
        return keras.ops.mean(images, axis=[1, 2, 3])[:, None] + 0.0 * self.w


class FixedImage(keras.layers.Layer):
    """Every latent gives the same image (mean pixel `value`); a zero-gradient weight."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = value

    def build(self, input_shape):
        self.w = self.add_weight(shape=(), initializer="zeros")

    def call(self, latents):
        ones = keras.ops.ones((keras.ops.shape(latents)[0], SIZE, SIZE, 3))
        return ones * self.value + 0.0 * self.w


def known_logits_gan(lecam, fake_value, d_steps):
    images, latents = keras.Input((SIZE, SIZE, 3)), keras.Input((LATENT_DIM,))
    discriminator = keras.Model(images, MeanLogit()(images), name="discriminator")
    generator = keras.Model(latents, FixedImage(fake_value)(latents), name="generator")
    gan = make_gan(
        generator=generator,
        discriminator=discriminator,
        augment=tf_diffaug.DiffAugment("flip", seed=2),
        lecam=lecam,
        d_steps_per_g_step=d_steps,
        ema_decay=None,
    )
    return compile_gan(gan)


@pytest.mark.parametrize("unrolled", [False, True])
def test_fit_moves_the_anchors_and_logs_the_penalty_as_by_hand(unrolled):
    # 5 train steps of 2 D steps; start_step 2: anchors = batch means in steps 0 and 1,
    # decay 0.9 from step 2, penalty in steps 3 and 4.
    steps, d_steps, start = 5, 2, 2
    rng = np.random.default_rng(1)
    reals = rng.uniform(-1, 1, (BATCH * d_steps, SIZE, SIZE, 3)).astype("float32")
    reals[:BATCH] = np.clip(reals[:BATCH] + 0.5, -1, 1)  # two D steps, two real means
    lecam = keras_models.LeCamRegularizer(weight=0.3, decay=0.9, start_step=start)
    gan = known_logits_gan(lecam, fake_value=-0.2, d_steps=d_steps)
    if unrolled:
        unroll_d_steps(gan)
    data = tf.data.Dataset.from_tensors(reals).repeat()
    history = gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)

    real_logits = reals.reshape(d_steps, BATCH, -1).mean(axis=-1, dtype=np.float64)
    fake_logit = np.float32(-0.2)
    expected = reference_run(
        [real_logits.mean(axis=1)] * steps, [[fake_logit] * d_steps] * steps, start
    )
    a_real, a_fake, _ = expected[-1]
    assert float(lecam.anchor_real) == pytest.approx(a_real, rel=1e-5)
    assert float(lecam.anchor_fake) == pytest.approx(a_fake, rel=1e-5)
    penalties = [
        lecam_penalty(real_logits[i % d_steps], fake_logit, r, f)
        for i, (r, f, on) in enumerate(expected)
        if on
    ]
    assert len(penalties) == 4
    assert history.history["lecam"][-1] == pytest.approx(float(np.mean(penalties)), rel=1e-5)


def test_the_d_loss_gets_weight_times_the_penalty():
    # Two identical toy GANs on the same batch, one with LeCam (anchors 0.5 before the
    # step, decay 0.9, penalty on): D's loss differs by exactly 0.3 * lecam_reg.
    rng = np.random.default_rng(0)
    reals = tf.constant(rng.uniform(-1, 1, (8, SIZE, SIZE, 3)).astype("float32"))
    fakes = tf.constant(rng.uniform(-1, 1, (8, SIZE, SIZE, 3)).astype("float32"))
    lecam = keras_models.LeCamRegularizer(weight=0.3, decay=0.9, start_step=0, initial=0.5)
    with_lecam, plain = (compile_gan(make_gan(lecam=x)) for x in (lecam, None))
    for gan in (with_lecam, plain):
        gan.train_steps.assign(3)
    loss, grads, logs = with_lecam._discriminator_gradients(reals, fakes, None, None, True)
    plain_loss, plain_grads, plain_logs = plain._discriminator_gradients(
        reals, fakes, None, None, True
    )
    real, fake = logs["d_real_logits"].numpy(), logs["d_fake_logits"].numpy()
    np.testing.assert_array_equal(real, plain_logs["d_real_logits"])
    a_real = 0.5 * 0.9 + real.mean() * (1 - 0.9)
    a_fake = 0.5 * 0.9 + fake.mean() * (1 - 0.9)
    penalty = float(lecam_penalty(real, fake, a_real, a_fake))
    assert penalty > 0.01
    assert float(loss - plain_loss) == pytest.approx(0.3 * penalty, rel=1e-5)
    assert float(np.mean(logs["lecam"])) == pytest.approx(penalty, rel=1e-5)
    assert any(not np.allclose(g, h) for g, h in zip(grads, plain_grads, strict=True))
    # The anchors are assigned by the D step, not by computing its loss.
    assert float(lecam.anchor_real) == 0.5


def test_skipped_d_steps_leave_the_anchors():
    lecam = keras_models.LeCamRegularizer(start_step=0, initial=3.0)
    gan = known_logits_gan(lecam, fake_value=0.1, d_steps=1)
    reals = np.full((BATCH, SIZE, SIZE, 3), 0.5, np.float32)
    reals[0, 0, 0, 0] = np.nan  # every D step is skipped
    gan.fit(tf.data.Dataset.from_tensors(reals).repeat(), epochs=1, steps_per_epoch=2, verbose=0)
    assert (float(lecam.anchor_real), float(lecam.anchor_fake)) == (3.0, 3.0)
    assert int(gan.nonfinite_streak) == 2


@pytest.mark.parametrize("via", ["tf_checkpoint", "keras_weights"])
def test_resume_is_bitwise_exact(tmp_path, via):
    # A real D and DiffAugment; saved after the start step switched (step 3 of start 2).
    data = tf.data.Dataset.from_tensors(
        np.random.default_rng(0).uniform(-1, 1, (2 * BATCH, SIZE, SIZE, 3)).astype("float32")
    ).repeat()

    def new_gan(weights_seed):
        lecam = keras_models.LeCamRegularizer(weight=0.3, decay=0.9, start_step=2)
        return compile_gan(make_gan(weights_seed=weights_seed, lecam=lecam, ema_decay=0.9))

    def run(gan, steps):
        history = gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
        return history.history["lecam"]

    gan = new_gan(0)
    run(gan, 3)
    path = str(tmp_path / "ckpt")
    if via == "tf_checkpoint":
        items = gan.checkpoint_items()
        assert items["lecam"] == list(gan.lecam.weights)
        path = tf.train.Checkpoint(**items).write(path)
    else:
        path += ".weights.h5"
        gan.save_weights(path)
    saved_anchor = float(gan.lecam.anchor_real)
    rest = run(gan, 4)
    expected = [np.array(v) for v in gan.weights]
    assert float(gan.lecam.anchor_real) != saved_anchor and rest[0] > 0

    resumed = new_gan(7)
    if via == "tf_checkpoint":
        tf.train.Checkpoint(**resumed.checkpoint_items()).read(path).assert_consumed()
    else:
        resumed.load_weights(path)
    assert float(resumed.lecam.anchor_real) == saved_anchor
    assert run(resumed, 4) == rest
    for got, want in zip(resumed.weights, expected, strict=True):
        np.testing.assert_array_equal(np.array(got), want)


def test_two_replicas_take_the_step_of_one_and_hold_the_same_anchors():
    # Zero-debiased anchors put the penalty on from step 0 (lecam-gan's StyleGAN2 code),
    # so one step tests it; the anchors are the global batch means on both replicas.
    rng = np.random.default_rng(3)
    batch = rng.uniform(-1, 1, (8, SIZE, SIZE, 3)).astype("float32")
    batch[:4] = np.clip(batch[:4] + 0.6, -1, 1)  # replica 0's reals alone would differ
    gans = []

    def new_gan():
        lecam = keras_models.LeCamRegularizer(weight=5.0, decay=0.99, start_step=0, debias=True)
        gan = make_gan(augment=Shift(), lecam=lecam, ema_decay=0.9)
        sgd = keras.optimizers.SGD
        gans.append(gan.lecam)
        return compile_gan(gan, d_optimizer=sgd(0.1), g_optimizer=sgd(0.1))

    assert_two_replicas_take_the_step_of_one(new_gan, batch)
    one, two = gans
    for name in ("anchor_real", "anchor_fake", "biased_real", "updates"):
        copies = two_replica_strategy().experimental_local_results(getattr(two, name).value)
        values = [float(c) for c in copies]
        assert values[0] == values[1], name
        assert values[0] == pytest.approx(float(getattr(one, name)), rel=1e-6), name
    assert float(one.updates) == 1.0
    assert float(one.anchor_real) != float(one.anchor_fake)


# --- configuration ---------------------------------------------------------------------------


def test_config_round_trip_validation_and_gan_checks():
    lecam = keras_models.LeCamRegularizer(weight=1e-6, decay=0.99, start_step=0, debias=True)
    clone = assert_config_round_trip(lecam)
    assert (clone.weight, clone.decay, clone.start_step, clone.initial, clone.debias) == (
        1e-6,
        0.99,
        0,
        1000.0,
        True,
    )
    for kwargs, message in (
        ({"weight": 0}, "Expected `weight` > 0"),
        ({"decay": 1.0}, r"Expected `decay` in \[0, 1\)"),
        ({"start_step": 2.5}, "Expected `start_step` an integer >= 0"),
        ({"initial": float("nan")}, "Expected `initial` finite"),
        ({"debias": True}, "have no start step"),
    ):
        with pytest.raises(ValueError, match=message):
            keras_models.LeCamRegularizer(**kwargs)
    with pytest.raises(ValueError, match="Expected `lecam` to be a keras_models.LeCamRegularizer"):
        make_gan(lecam=0.3)


def test_lecam_flags_reach_the_gan():
    values = flags.FlagValues()
    cli_flags.define_flags(values)
    values(["train.py", "--lecam_weight=0.5", "--lecam_decay=0.8", "--lecam_start_step=7"])
    overrides = cli_flags.flag_overrides(values)
    assert overrides == {"lecam_weight": 0.5, "lecam_decay": 0.8, "lecam_start_step": 7}
    gan = build.build_gan(recipes.resolve("demo", {**overrides, "width": 1}))
    lecam = gan.lecam
    assert (lecam.weight, lecam.decay, lecam.start_step, lecam.initial) == (0.5, 0.8, 7, 1000.0)
    assert "lecam" in [m.name for m in gan.metrics]
    assert build.build_gan(recipes.resolve("demo", {"width": 1})).lecam is None
    for preset in ("lecam_biggan_cifar10", "lecam_biggan_cifar100"):
        config = recipes.resolve(preset)
        assert (config.lecam_weight, config.lecam_decay, config.lecam_start_step) == (
            0.3,
            0.9,
            1000,
        )
        # DiffAugment's BigGAN-CIFAR script with --LC 0.3, and nothing else changed.
        plain = recipes.resolve(preset.removeprefix("lecam_"))
        same = lambda c: {
            k: v for k, v in dataclasses.asdict(c).items() if not k.startswith(("lecam", "preset"))
        }
        assert same(config) == same(plain)
    assert recipes.resolve("lecam_biggan_cifar10", {"percent": 10}).kimg == 25_000  # 5000 epochs
    with pytest.raises(ConfigError, match="lecam_decay"):
        recipes.resolve("demo", {"lecam_decay": 1.0})
