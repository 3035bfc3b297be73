"""keras_models.layers.spectral_normalization: SN-GAN's reparameterisation W / sigma(W)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models.layers.spectral_normalization import SNConv2D, SNDense, SNEmbedding
from tests.helpers.checks import assert_config_round_trip, assert_keras_save_load, run_graph_and_xla


def _largest_singular_value(kernel):
    matrix = np.reshape(np.asarray(kernel), (-1, kernel.shape[-1]))
    return np.linalg.svd(matrix, compute_uv=False)[0]


def _raw_kernel(layer):
    return layer.embeddings if isinstance(layer, SNEmbedding) else layer.kernel


def _layers():
    """(layer, input) pairs whose kernels have singular values 10, 5, 2.5, ...

    A known spectral gap makes power-iteration convergence deterministic in the number of
    calls: the error shrinks by (5 / 10)^2 per iteration from any starting vector.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 6, 5)).astype("float32")
    pairs = [
        (SNDense(7), x[:, 0, 0, :]),
        (SNConv2D(7, 3, padding="same"), x),
        (SNEmbedding(10, 7), np.array([0, 3, 9, 3])),
    ]
    for layer, inputs in pairs:
        layer.build(inputs.shape)
        kernel = _raw_kernel(layer)
        fan_in, units = int(np.prod(kernel.shape[:-1])), kernel.shape[-1]
        rank = min(fan_in, units)
        left = np.linalg.qr(rng.normal(size=(fan_in, rank)))[0]
        right = np.linalg.qr(rng.normal(size=(units, rank)))[0]
        spectrum = 10.0 * 0.5 ** np.arange(rank)
        kernel.assign(np.reshape(left * spectrum @ right.T, kernel.shape).astype("float32"))
    return pairs


@pytest.mark.parametrize("index", range(3), ids=["dense", "conv", "embedding"])
def test_power_iteration_bounds_largest_singular_value(index):
    layer, x = _layers()[index]
    np.testing.assert_allclose(_largest_singular_value(_raw_kernel(layer)), 10.0, rtol=1e-5)
    for _ in range(8):
        layer(x, training=True)
    sigma = _largest_singular_value(layer.normalized_kernel(_raw_kernel(layer)))
    # The power-iteration estimate never exceeds the true value, so sigma >= 1.
    assert 1.0 - 1e-5 <= sigma < 1.0 + 1e-3


def test_dense_output_uses_normalized_kernel_in_inference():
    layer, _ = _layers()[0]
    identity = np.eye(5, dtype="float32")
    for _ in range(8):
        layer(identity, training=True)
    # layer(I) - bias is the effective kernel: spectral norm 1, not the raw kernel's 10.
    effective = np.asarray(layer(identity, training=False)) - np.asarray(layer.bias)
    np.testing.assert_allclose(_largest_singular_value(effective), 1.0, atol=1e-3)


def test_singular_vector_updates_only_in_training():
    layer, x = _layers()[1]
    layer(x, training=True)
    u = np.asarray(layer.sn_u)
    layer(x, training=False)
    np.testing.assert_array_equal(np.asarray(layer.sn_u), u)
    layer(x, training=True)
    assert not np.allclose(np.asarray(layer.sn_u), u)


@pytest.mark.parametrize("index", range(3), ids=["dense", "conv", "embedding"])
def test_gradient_flows_through_sigma(index):
    # W / sigma(W) is invariant to the scale of W, so the true SN gradient is orthogonal to
    # W. keras.layers.SpectralNormalization, which treats W / sigma as a constant weight,
    # fails this (its gradient is the unnormalized layer's).
    layer, x = _layers()[index]
    layer(x, training=True)
    kernel = _raw_kernel(layer)
    weights = np.random.default_rng(1).normal(size=layer(x).shape).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=False) * weights)
    grad = tape.gradient(loss, kernel.value)
    cosine = np.sum(grad * kernel) / (np.linalg.norm(grad) * np.linalg.norm(kernel))
    assert abs(cosine) < 1e-4
    assert np.linalg.norm(grad) > 0


def test_scaling_the_kernel_leaves_the_output_unchanged():
    layer, x = _layers()[1]
    expected = np.asarray(layer(x, training=False))
    layer.kernel.assign(layer.kernel * 4.0)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), expected, rtol=1e-4, atol=1e-5)


def _biggan_pytorch_sn(weight, u, eps):
    """One power iteration and W / sigma as BigGAN-PyTorch's layers.py, on torch's (out, in).

    Returns the normalized weight, the new u and the values epsilon could floor: the norms
    of u W and v W^T, and sigma.
    """
    v_raw = u @ weight
    v = v_raw / max(np.linalg.norm(v_raw), eps)  # F.normalize
    u_raw = v @ weight.T
    u = u_raw / max(np.linalg.norm(u_raw), eps)
    sigma = np.squeeze(v @ weight.T @ u.T)
    return weight / sigma, u, (np.linalg.norm(v_raw), np.linalg.norm(u_raw), sigma)


@pytest.mark.parametrize("scale", [1.0, 0.05], ids=["unclamped", "clamped"])
def test_epsilon_placement_matches_biggan_pytorch(scale):
    # With epsilon 0.5 and a small kernel, ||u W||, ||v W^T|| and sigma are all below
    # epsilon: a floor on sigma, or epsilon added to the norms or to their squares, would
    # each give other values.
    rng = np.random.default_rng(0)
    kernel = (scale * rng.normal(size=(4, 3))).astype("float32")
    u = rng.normal(size=(1, 3)).astype("float32")
    layer = SNDense(3, epsilon=0.5, use_bias=False)
    layer.build((None, 4))
    layer.kernel.assign(kernel)
    layer.sn_u.assign(u)
    expected, expected_u, floored = _biggan_pytorch_sn(kernel.T.astype("float64"), u, 0.5)
    assert (max(floored) < 0.5) == (scale < 1) and (min(floored) > 0.5) == (scale == 1)
    out = np.asarray(layer(np.eye(4, dtype="float32"), training=True))
    np.testing.assert_allclose(out, expected.T, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(layer.sn_u), expected_u, rtol=1e-5)


def test_all_zero_kernel_stays_zero():
    layer = SNConv2D(2, 3, kernel_initializer="zeros", bias_initializer="ones")
    out = np.asarray(layer(np.ones((1, 4, 4, 3), "float32"), training=True))
    np.testing.assert_array_equal(out, np.ones_like(out))


def test_power_iterations_must_be_positive():
    with pytest.raises(ValueError, match="power_iterations"):
        SNDense(3, power_iterations=0)


@pytest.mark.parametrize("index", range(3), ids=["dense", "conv", "embedding"])
def test_config_round_trip_and_save_load(index, tmp_path):
    layer, x = _layers()[index]
    layer(x, training=True)
    clone = assert_config_round_trip(layer)
    assert (clone.power_iterations, clone.epsilon) == (layer.power_iterations, 1e-8)
    model = keras.Sequential([keras.Input(x.shape[1:], dtype=x.dtype), layer])
    assert_keras_save_load(model, x, tmp_path)


def test_graph_and_xla_agree_and_update_u():
    layer, x = _layers()[1]
    layer(x, training=False)
    graph, xla = run_graph_and_xla(lambda t: layer(t, training=False), x)
    np.testing.assert_allclose(graph, xla, rtol=1e-5, atol=1e-5)
    u = np.asarray(layer.sn_u)
    tf.function(lambda t: layer(t, training=True), jit_compile=True)(x)
    assert not np.allclose(np.asarray(layer.sn_u), u)
