"""keras_models.layers.conditional_batch_norm: BN(x) * (1 + gain(c)) + bias(c)."""

import keras
import numpy as np
import pytest

from keras_models.layers.conditional_batch_norm import ConditionalBatchNormalization
from tests.helpers.checks import assert_config_round_trip, assert_keras_save_load, run_graph_and_xla

_RNG = np.random.default_rng(0)
X = _RNG.normal(loc=2.0, scale=3.0, size=(6, 4, 4, 5)).astype("float32")
CONDITION = _RNG.normal(size=(6, 3)).astype("float32")


def _layer(**kwargs):
    layer = ConditionalBatchNormalization(**kwargs)
    layer.build([X.shape, CONDITION.shape])
    return layer


def test_matches_the_formula_with_batch_statistics():
    layer = _layer(spectral_norm=False, epsilon=1e-5)
    gain_kernel = _RNG.normal(size=(3, 5)).astype("float32")
    bias_kernel = _RNG.normal(size=(3, 5)).astype("float32")
    layer.gain.kernel.assign(gain_kernel)
    layer.bias.kernel.assign(bias_kernel)
    out = np.asarray(layer([X, CONDITION], training=True))
    normalized = (X - X.mean(axis=(0, 1, 2))) / np.sqrt(X.var(axis=(0, 1, 2)) + 1e-5)
    gain = 1.0 + CONDITION @ gain_kernel
    bias = CONDITION @ bias_kernel
    expected = normalized * gain[:, None, None, :] + bias[:, None, None, :]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_zero_projections_give_plain_batch_norm():
    # The "1 +" makes zero gain/bias projections the identity on normalized activations.
    out = np.asarray(_layer(kernel_initializer="zeros")([X, CONDITION], training=True))
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_condition_changes_each_sample_separately():
    layer = _layer()
    other = CONDITION.copy()
    other[0] += 1.0
    a = np.asarray(layer([X, CONDITION], training=False))
    b = np.asarray(layer([X, other], training=False))
    assert not np.allclose(a[0], b[0])
    np.testing.assert_array_equal(a[1:], b[1:])


def test_moving_statistics_update_only_in_training():
    layer = _layer(momentum=0.5)
    layer([X, CONDITION], training=False)
    np.testing.assert_array_equal(np.asarray(layer.norm.moving_mean), 0.0)
    layer([X, CONDITION], training=True)
    np.testing.assert_allclose(
        np.asarray(layer.norm.moving_mean), 0.5 * X.mean(axis=(0, 1, 2)), rtol=1e-5
    )


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_projections_are_spectrally_normalized_when_asked(spectral_norm):
    layer = _layer(spectral_norm=spectral_norm, sn_epsilon=1e-3)
    assert any("sn_u" in w.path for w in layer.weights) == spectral_norm
    if spectral_norm:
        assert layer.gain.epsilon == layer.bias.epsilon == 1e-3


def test_config_round_trip_save_load_and_xla(tmp_path):
    layer = _layer(momentum=0.8, epsilon=1e-3, spectral_norm=False, kernel_initializer="he_normal")
    clone = assert_config_round_trip(layer)
    assert (clone.momentum, clone.epsilon, clone.spectral_norm) == (0.8, 1e-3, False)
    x_in, c_in = keras.Input(X.shape[1:]), keras.Input(CONDITION.shape[1:])
    model = keras.Model([x_in, c_in], layer([x_in, c_in]))
    assert_keras_save_load(model, [X, CONDITION], tmp_path)
    graph, xla = run_graph_and_xla(lambda x, c: layer([x, c], training=True), X, CONDITION)
    np.testing.assert_allclose(graph, xla, rtol=1e-4, atol=1e-4)
