"""Tests for the StyleGAN2 building blocks in keras_models/layers/."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_models.layers.equalized import EqualizedConv2D, EqualizedDense
from keras_models.layers.minibatch_std import MinibatchStdDev
from keras_models.layers.modulated_conv import ModulatedConv2D
from keras_models.layers.noise import NoiseInjection
from keras_models.layers.resample import Downsample2D, Upsample2D, downsample_2d, upsample_2d
from tests.helpers.checks import assert_config_round_trip, run_graph_and_xla


def _normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _lrelu(x):
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2.0)


# Equalized learning rate ---------------------------------------------------------------


@pytest.mark.parametrize("lrmul", [1.0, 0.01])
def test_equalized_dense_runtime_scale_and_output(lrmul):
    layer = EqualizedDense(64, lrmul=lrmul, bias_init=1.0, activation="lrelu")
    x = _normal((4, 50))
    y = layer(x).numpy()
    assert layer.runtime_scale == pytest.approx(lrmul / math.sqrt(50))
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    # Stored weights have std 1 / lrmul, so the effective weights have He's std.
    assert np.std(kernel) * lrmul == pytest.approx(1.0, rel=0.1)
    np.testing.assert_allclose(bias * lrmul, 1.0, rtol=1e-6)
    expected = _lrelu(x @ (kernel * lrmul / math.sqrt(50)) + bias * lrmul)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_equalized_conv_runtime_scale_and_output():
    layer = EqualizedConv2D(4, 3, lrmul=0.5)
    x = _normal((2, 8, 8, 6))
    y = layer(x).numpy()
    assert layer.runtime_scale == pytest.approx(0.5 / math.sqrt(3 * 3 * 6))
    layer.bias.assign(np.arange(4, dtype="float32"))
    expected = tf.nn.conv2d(x, layer.kernel * layer.runtime_scale, 1, "SAME") + np.arange(4) * 0.5
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    assert y.shape == (2, 8, 8, 4)


@pytest.mark.parametrize("kernel_size", [1, 3])
def test_equalized_conv_down_is_blur_then_stride(kernel_size):
    layer = EqualizedConv2D(3, kernel_size, down=True, taps=[1, 1])
    x = _normal((2, 8, 8, 2))
    y = layer(x).numpy()
    assert y.shape == (2, 4, 4, 3)
    if kernel_size == 1:
        # A 2x2 box filter then a stride-2 1x1 conv is average pooling then the 1x1 conv.
        pooled = tf.nn.avg_pool2d(x, 2, 2, "VALID")
        expected = tf.nn.conv2d(pooled, layer.kernel * layer.runtime_scale, 1, "VALID")
        np.testing.assert_allclose(y, expected.numpy(), rtol=1e-5, atol=1e-5)


# Resampling ----------------------------------------------------------------------------


def test_upsample_fir_1331_is_bilinear_away_from_borders():
    x = _normal((2, 8, 8, 3))
    up = upsample_2d(x).numpy()
    bilinear = tf.image.resize(x, (16, 16), "bilinear").numpy()
    np.testing.assert_allclose(up[:, 1:-1, 1:-1], bilinear[:, 1:-1, 1:-1], atol=1e-5)


def test_upsample_box_is_nearest_and_downsample_box_is_average_pool():
    x = _normal((2, 6, 6, 3))
    nearest = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(Upsample2D([1, 1])(x).numpy(), nearest, atol=1e-6)
    pooled = tf.nn.avg_pool2d(x, 2, 2, "VALID").numpy()
    np.testing.assert_allclose(Downsample2D([1, 1])(x).numpy(), pooled, atol=1e-6)


def test_downsample_keeps_constants_and_halves_size():
    x = np.full((1, 16, 16, 2), 3.0, "float32")
    y = downsample_2d(x).numpy()
    assert y.shape == (1, 8, 8, 2)
    np.testing.assert_allclose(y[:, 1:-1, 1:-1], 3.0, rtol=1e-6)  # unit DC gain


def test_resample_layers_config_round_trip():
    for layer in (Upsample2D([1, 2, 1]), Downsample2D()):
        clone = assert_config_round_trip(layer)
        assert clone.taps == layer.taps


# Modulated convolution -----------------------------------------------------------------


def test_modulated_conv_equals_per_sample_weights():
    """Scaling activations equals a convolution with per-sample modulated,
    demodulated weights (the definition)."""
    layer = ModulatedConv2D(5, 3)
    x, w = _normal((3, 6, 6, 4)), _normal((3, 7), seed=1)
    y = layer([x, w]).numpy()
    styles = layer.affine(w).numpy()
    for b in range(3):
        weight = layer.kernel.numpy() * layer.runtime_scale * styles[b][None, None, :, None]
        weight /= np.sqrt(np.sum(weight**2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        expected = tf.nn.conv2d(x[b : b + 1], weight, 1, "SAME").numpy()[0]
        np.testing.assert_allclose(y[b], expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("style_scale", [0.05, 1.0, 20.0])
def test_demodulation_keeps_unit_variance_whatever_the_style(style_scale):
    layer = ModulatedConv2D(32, 3)
    x, w = _normal((4, 24, 24, 64)), _normal((4, 16), seed=1) * style_scale
    y = layer([x, w]).numpy()[:, 1:-1, 1:-1]  # zero padding lowers the border variance
    assert np.std(y) == pytest.approx(1.0, abs=0.05)
    np.testing.assert_allclose(np.std(y, axis=(0, 1, 2)), 1.0, atol=0.15)


def test_without_demodulation_the_output_follows_the_style():
    layer = ModulatedConv2D(8, 1, demodulate=False, use_bias=True)
    x, w = _normal((4, 8, 8, 16)), _normal((4, 16), seed=1)
    layer([x, w])
    stds = [np.std(layer([x, w * s]).numpy()) for s in (1.0, 100.0)]
    assert stds[1] > 10 * stds[0]


def test_modulated_conv_up_shape_and_config():
    layer = ModulatedConv2D(6, 3, up=True, taps=[1, 1])
    y = layer([_normal((2, 4, 4, 3)), _normal((2, 8))])
    assert y.shape == (2, 8, 8, 6)
    assert assert_config_round_trip(layer).get_config()["up"] is True


# Noise ---------------------------------------------------------------------------------


def test_noise_strength_zero_is_identity_and_noise_is_shared_across_channels():
    layer = NoiseInjection(seed=3)
    x = _normal((2, 8, 8, 4))
    np.testing.assert_array_equal(layer(x).numpy(), x)
    layer.strength.assign(0.5)
    delta = layer(x).numpy() - x
    np.testing.assert_allclose(delta, np.repeat(delta[..., :1], 4, axis=-1), atol=1e-6)
    assert np.std(delta) == pytest.approx(0.5, rel=0.2)
    assert not np.allclose(layer(x).numpy() - x, delta)  # fresh noise per call
    assert assert_config_round_trip(layer).seed == 3


# Minibatch standard deviation ----------------------------------------------------------


def _minibatch_std_numpy(x, group_size, num_features):
    """Reference: strided groups (sample b in group b mod M), population std."""
    b, h, w, c = x.shape
    g = max(d for d in range(1, min(group_size, b) + 1) if b % d == 0)
    m = b // g
    extra = np.zeros((b, h, w, num_features), np.float64)
    for group in range(m):
        members = x[group::m].astype(np.float64)  # (G, H, W, C)
        std = np.sqrt(members.var(axis=0) + 1e-8)  # (H, W, C)
        per_feature = std.reshape(h, w, num_features, c // num_features).mean(axis=(0, 1, 3))
        extra[group::m] = per_feature
    return np.concatenate([x, extra.astype(np.float32)], axis=-1)


@pytest.mark.parametrize(
    "batch, group_size, num_features", [(8, 4, 1), (6, 4, 1), (6, 4, 2), (2, 4, 1), (5, 4, 1)]
)
def test_minibatch_std_matches_numpy(batch, group_size, num_features):
    x = _normal((batch, 4, 4, 6))
    layer = MinibatchStdDev(group_size, num_features)
    expected = _minibatch_std_numpy(x, group_size, num_features)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_minibatch_std_dynamic_batch_and_xla():
    """An unknown batch size (graph) picks the same group size as a static one (XLA)."""
    x = _normal((6, 4, 4, 8))
    layer = MinibatchStdDev(4)
    expected = _minibatch_std_numpy(x, 4, 1)
    dynamic = tf.function(layer, input_signature=[tf.TensorSpec([None, 4, 4, 8])])
    np.testing.assert_allclose(dynamic(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    graph, xla = run_graph_and_xla(layer, tf.constant(x))
    np.testing.assert_allclose(xla, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(graph, expected, rtol=1e-5, atol=1e-6)


def test_layer_configs_round_trip():
    for layer in (
        EqualizedDense(3, lrmul=0.01, use_bias=False, bias_init=1.0, activation="lrelu"),
        EqualizedConv2D(3, 1, lrmul=0.1, down=True, taps=[1, 2, 1]),
        MinibatchStdDev(2, 2),
    ):
        assert_config_round_trip(layer)
    with pytest.raises(ValueError, match="activation"):
        EqualizedDense(3, activation="relu")


def test_resampling_is_twice_differentiable_in_graph_and_xla():
    """R1 and path-length regularisation differentiate gradients of the FIR filters."""
    x = tf.constant(_normal((2, 8, 8, 3)))
    w = tf.constant(_normal((3,), seed=1))

    def second_order(x, w):
        with tf.GradientTape() as outer:
            outer.watch(w)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(downsample_2d(upsample_2d(x * w)) ** 2)
            penalty = tf.reduce_sum(inner.gradient(y, x) ** 2)
        return outer.gradient(penalty, w)

    eager = second_order(x, w).numpy()
    graph, xla = run_graph_and_xla(second_order, x, w)
    assert np.all(np.abs(eager) > 0)
    np.testing.assert_allclose(graph, eager, rtol=1e-4)
    np.testing.assert_allclose(xla, eager, rtol=1e-4)


@pytest.mark.parametrize("op", [upsample_2d, downsample_2d], ids=["up", "down"])
def test_resampling_gradient_is_the_adjoint(op):
    """<A x, y> = <x, A^T y>, where A^T y is the (custom) gradient of <A x, y>."""
    x = tf.constant(_normal((2, 8, 8, 3)))
    y = tf.constant(_normal(op(x).shape, seed=1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        inner = tf.reduce_sum(op(x) * y)
    adjoint = tape.gradient(inner, x)
    assert float(inner) == pytest.approx(float(tf.reduce_sum(x * adjoint)), rel=1e-5)
