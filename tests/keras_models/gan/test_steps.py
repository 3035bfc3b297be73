"""GAN train steps: gradients through the augmentation, R1, consistency, mixed
precision and the checks of the dataset's labels."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_diffaug
from tests.helpers.toy_gan import (
    BATCH,
    NUM_CLASSES,
    SIZE,
    Shift,
    compile_gan,
    dataset,
    make_gan,
    real_batch,
    state,
)


def _generator_update(mode, policy="color,translation,cutout", loss="hinge", discriminator=None):
    """The change of G's weights after one step with SGD(1) on G and a frozen D: -dL/dG."""
    gan = make_gan(
        augment=tf_diffaug.DiffAugment(policy, seed=3),
        augment_mode=mode,
        loss=loss,
        discriminator=discriminator,
        ema_decay=None,
    )
    compile_gan(gan, keras.optimizers.SGD(0.0), keras.optimizers.SGD(1.0))
    before = [np.array(w) for w in gan.generator.trainable_weights]
    gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=1, verbose=0)
    return [np.array(w) - b for w, b in zip(gan.generator.trainable_weights, before, strict=True)]


def _linear_discriminator(zero_sum):
    keras.utils.set_random_seed(5)
    images = keras.Input((SIZE, SIZE, 3))
    dense = keras.layers.Dense(1)
    discriminator = keras.Model(images, dense(keras.layers.Flatten()(images)))
    half = np.random.default_rng(5).normal(size=(SIZE * SIZE * 3 // 2, 1)).astype("float32")
    # Weights in +a, -a pairs: their sum is exactly zero, so D(x + b) = D(x) per sample.
    kernel = np.concatenate([half, -half if zero_sum else half])
    dense.kernel.assign(kernel)
    return discriminator


def test_generator_gradients_flow_through_the_augmentation():
    augmented = _generator_update("diffaugment")
    plain = _generator_update("none")
    assert all(np.abs(g).max() > 0 for g in augmented)
    assert max(np.abs(a - p).max() for a, p in zip(augmented, plain, strict=True)) > 1e-4


@pytest.mark.parametrize("loss", ["hinge", "non_saturating"])
def test_brightness_cancels_under_a_zero_sum_linear_discriminator(loss):
    # D(x + b) = D(x) and dT/dx = I, so DiffAugment must not change G's gradients.
    updates = {
        mode: _generator_update(mode, "brightness", loss, _linear_discriminator(zero_sum=True))
        for mode in ("diffaugment", "none")
    }
    for augmented, plain in zip(updates["diffaugment"], updates["none"], strict=True):
        np.testing.assert_allclose(augmented, plain, rtol=1e-5, atol=1e-7)
    if loss == "hinge":  # the hinge G loss has a constant gradient: exactly equal
        for augmented, plain in zip(updates["diffaugment"], updates["none"], strict=True):
            np.testing.assert_array_equal(augmented, plain)
    # Control: when the weights do not sum to zero the brightness shift changes the
    # logits, hence the non-saturating gradients; the equality above is not vacuous.
    if loss == "non_saturating":
        shifted = _generator_update(
            "diffaugment", "brightness", loss, _linear_discriminator(zero_sum=False)
        )
        unshifted = _generator_update(
            "none", "brightness", loss, _linear_discriminator(zero_sum=False)
        )
        assert max(np.abs(s - u).max() for s, u in zip(shifted, unshifted, strict=True)) > 1e-6


def test_r1_matches_finite_differences():
    gan = compile_gan(make_gan(augment_mode="none", r1_gamma=1.0, ema_decay=None))
    reals = real_batch().astype("float64")
    discriminator = lambda x: gan.discriminator(tf.constant(x, tf.float32)).numpy()[:, 0]
    eps = 1e-2
    squared_norms = np.zeros(BATCH)
    for index in np.ndindex(reals.shape[1:]):  # central differences, every sample at once
        step = np.zeros_like(reals)
        step[(slice(None), *index)] = eps
        # D is piecewise linear (LeakyReLU), so double precision steps are not needed.
        derivative = (discriminator(reals + step) - discriminator(reals - step)) / (2 * eps)
        squared_norms += derivative**2
    history = gan.fit(dataset(reals.astype("float32")), epochs=1, steps_per_epoch=1, verbose=0)
    np.testing.assert_allclose(history.history["r1"][0], squared_norms.mean(), rtol=1e-3)


class Halve(keras.layers.Layer):
    def call(self, images, training=None):
        return images * 0.5


def _first_step_logs(**kwargs):
    gan = make_gan(augment=Shift(), ema_decay=None, **kwargs)
    compile_gan(gan, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    reals = real_batch()
    logs = gan.fit(dataset(reals), epochs=1, steps_per_epoch=1, verbose=0).history
    d = lambda x: gan.discriminator(tf.constant(x), training=False).numpy()[:, 0]
    return {name: value[0] for name, value in logs.items()}, reals, d


def test_r1_with_respect_to_the_reals_goes_through_the_augmentation():
    # T(x) = roll(x) / 2 + 0.1, so d D(T(x)) / dx = roll^T(dD/dT(x)) / 2: a quarter of the
    # squared norm of the gradient with respect to the augmented images.
    augmented, _, _ = _first_step_logs(r1_gamma=1.0, r1_inputs="augmented")
    reals, _, _ = _first_step_logs(r1_gamma=1.0, r1_inputs="reals")
    assert augmented["r1"] > 0
    np.testing.assert_allclose(reals["r1"], augmented["r1"] / 4, rtol=1e-5)


@pytest.mark.parametrize("consistency_augment", [None, Halve()])
def test_consistency_compares_the_reference_pairs(consistency_augment):
    logs, reals, d = _first_step_logs(
        consistency_weight=1.0, consistency_augment=consistency_augment
    )
    augmented = Shift()(reals).numpy()
    if consistency_augment is None:  # (D(x) - D(T(x)))^2
        expected = np.mean((d(reals) - d(augmented)) ** 2)
    else:  # (D(T'(T(x))) - D(T(x)))^2, T' applied on top of the augmented reals
        expected = np.mean((d(augmented * 0.5) - d(augmented)) ** 2)
    np.testing.assert_allclose(logs["consistency"], expected, rtol=1e-4)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_scales_losses_and_keeps_logits_float32(policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        gan = compile_gan(make_gan())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    scaled = policy == "mixed_float16"  # bfloat16 has float32's range: no loss scaling
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    logits, _ = gan.discriminate(gan.generate(2), role="clean", training=False)
    assert logits.dtype == tf.float32
    before = state(gan)
    history = gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=2, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.array_equal(a, b) for a, b in zip(state(gan), before, strict=True))


@pytest.fixture(scope="module")
def conditional_gan():
    """One conditional GAN for the tests of rejected datasets: a rejected batch changes
    nothing that the next test reads."""
    return compile_gan(make_gan(NUM_CLASSES))


def test_conditional_dataset_without_labels_is_rejected(conditional_gan):
    gan = conditional_gan
    with pytest.raises(ValueError, match="expects a dataset of \\(images, labels\\)"):
        gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=1, verbose=0)


@pytest.mark.parametrize("bad_label", [NUM_CLASSES, -1])
def test_labels_outside_the_classes_are_named_before_the_embedding_lookup(
    conditional_gan, bad_label
):
    gan = conditional_gan
    images, labels = real_batch(NUM_CLASSES)
    labels[3] = bad_label
    expected = f"Expected class labels in \\[0, num_classes={NUM_CLASSES}\\). Received:"
    with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
        gan.fit(dataset((images, labels)), epochs=1, steps_per_epoch=1, verbose=0)
