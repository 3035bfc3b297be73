"""keras_models.biggan.blocks: BigGAN's residual up- and down-blocks."""

import numpy as np
import pytest
import tensorflow as tf

from keras_models.biggan.blocks import DiscriminatorBlock, GeneratorBlock, _preactivation_relu
from tests.helpers.checks import assert_config_round_trip

X = np.random.default_rng(0).normal(size=(2, 8, 8, 6)).astype("float32")
CONDITION = np.random.default_rng(1).normal(size=(2, 5)).astype("float32")


def _silence_residual(block):
    """Zeroes the last conv of the residual path, leaving only the shortcut."""
    block.conv2.kernel.assign(np.zeros(block.conv2.kernel.shape, "float32"))
    block.conv2.bias.assign(np.zeros(block.conv2.bias.shape, "float32"))


def _avg_pool(x):
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


@pytest.mark.parametrize("conditional", [True, False])
def test_generator_block_upsamples_and_conditions(conditional):
    block = GeneratorBlock(4, conditional=conditional)
    out = block(X, CONDITION if conditional else None, training=True)
    assert out.shape == (2, 16, 16, 4)
    paths = [w.path for w in block.weights]
    assert any("bn1/gain/kernel" in p for p in paths) == conditional
    assert any("bn1/gamma" in p for p in paths) == (not conditional)
    # The shortcut is nearest-neighbour upsampling then a 1x1 conv: with the residual path
    # silenced every 2x2 output patch is constant.
    _silence_residual(block)
    out = np.asarray(block(X, CONDITION if conditional else None, training=False))
    np.testing.assert_allclose(out[:, ::2, ::2], out[:, 1::2, 1::2], rtol=1e-6)


def test_discriminator_block_identity_shortcut():
    block = DiscriminatorBlock(6, downsample=False)
    block(X)
    assert block.shortcut is None  # same channels, no downsampling
    _silence_residual(block)
    np.testing.assert_array_equal(np.asarray(block(X)), X)


@pytest.mark.parametrize("preactivation", [True, False])
def test_discriminator_block_learned_shortcut_pools(preactivation):
    block = DiscriminatorBlock(4, downsample=True, preactivation=preactivation)
    assert block(X).shape == (2, 4, 4, 4)
    _silence_residual(block)
    conv = block.shortcut
    kernel = np.asarray(conv.normalized_kernel(conv.kernel))[0, 0]
    expected = _avg_pool(X @ kernel + np.asarray(conv.bias))  # pool and 1x1 conv commute
    np.testing.assert_allclose(np.asarray(block(X)), expected, rtol=1e-4, atol=1e-5)


def test_first_block_sees_the_raw_image():
    # Without pre-activation the residual path sees negative pixels; with it, ReLU hides
    # them, so scaling the negative part changes only the optimized block's output.
    flipped = np.where(X < 0, 2.0 * X, X)
    first = DiscriminatorBlock(4, preactivation=False)
    later = DiscriminatorBlock(4, preactivation=True)
    for block in (first, later):
        block(X)
        block.shortcut.kernel.assign(np.zeros(block.shortcut.kernel.shape, "float32"))
    residual_first = np.asarray(first(X)) - np.asarray(first(flipped))
    residual_later = np.asarray(later(X)) - np.asarray(later(flipped))
    assert np.abs(residual_first).max() > 1e-3
    np.testing.assert_allclose(residual_later, 0.0, atol=1e-6)


def test_preactivation_relu_has_the_values_and_gradients_of_relu():
    x = tf.constant([-2.0, -0.0, 0.0, 1e-30, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours, relu = _preactivation_relu(x), tf.nn.relu(x)
    np.testing.assert_array_equal(ours, relu)
    # Including the zero gradient at 0, which ops.maximum(x, 0) would get wrong.
    np.testing.assert_array_equal(tape.gradient(ours, x), tape.gradient(relu, x))


def test_block_configs_round_trip():
    for block in (
        GeneratorBlock(4, conditional=False, condition_spectral_norm=False, bn_momentum=0.5),
        DiscriminatorBlock(4, downsample=False, preactivation=False, kernel_initializer="zeros"),
    ):
        assert_config_round_trip(block)
