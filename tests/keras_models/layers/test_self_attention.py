"""keras_models.layers.self_attention: BigGAN's SAGAN block."""

import keras
import numpy as np
import pytest

from keras_models.layers.self_attention import SelfAttention
from tests.helpers.checks import assert_config_round_trip, assert_keras_save_load, run_graph_and_xla

X = np.random.default_rng(0).normal(size=(2, 6, 4, 16)).astype("float32")


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _max_pool(x):
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _reference(layer, x):
    """NumPy SAGAN attention with the layer's normalized 1x1 kernels."""
    kernel = {
        name: np.asarray(conv.normalized_kernel(conv.kernel))[0, 0]
        for name, conv in (
            ("theta", layer.theta),
            ("phi", layer.phi),
            ("g", layer.g),
            ("o", layer.o),
        )
    }
    b, h, w, c = x.shape
    theta = (x @ kernel["theta"]).reshape(b, h * w, c // 8)
    phi = _max_pool(x @ kernel["phi"]).reshape(b, h * w // 4, c // 8)
    g = _max_pool(x @ kernel["g"]).reshape(b, h * w // 4, c // 2)
    attention = _softmax(theta @ phi.transpose(0, 2, 1))
    attended = (attention @ g).reshape(b, h, w, c // 2)
    return x + float(layer.gamma) * (attended @ kernel["o"])


def test_starts_as_identity():
    layer = SelfAttention()
    np.testing.assert_array_equal(np.asarray(layer(X)), X)
    assert float(layer.gamma) == 0.0 and layer.gamma.trainable


def test_matches_reference_with_pooled_keys_and_values():
    layer = SelfAttention()
    layer(X)
    layer.gamma.assign(0.7)
    np.testing.assert_allclose(np.asarray(layer(X)), _reference(layer, X), rtol=1e-4, atol=1e-4)
    shapes = {name: getattr(layer, name).kernel.shape for name in ("theta", "phi", "g", "o")}
    assert shapes == {
        "theta": (1, 1, 16, 2),
        "phi": (1, 1, 16, 2),
        "g": (1, 1, 16, 8),
        "o": (1, 1, 8, 16),
    }
    assert not any("bias" in w.path for w in layer.weights)


def test_receptive_field_is_global():
    layer = SelfAttention()
    layer(X)
    layer.gamma.assign(1.0)
    moved = X.copy()
    moved[:, 0, 0, :] += 5.0
    change = np.abs(np.asarray(layer(moved)) - np.asarray(layer(X)))
    assert change[:, -1, -1, :].max() > 1e-3  # the opposite corner sees the edit


@pytest.mark.parametrize("shape", [(2, 5, 4, 16), (2, 4, 4, 4)])
def test_rejects_odd_sides_and_narrow_inputs(shape):
    with pytest.raises(ValueError, match="even H and W and C >= 8"):
        SelfAttention()(np.zeros(shape, "float32"))


def test_config_round_trip_save_load_and_xla(tmp_path):
    layer = SelfAttention(kernel_initializer="glorot_uniform", sn_epsilon=1e-3, name="attn")
    layer(X)
    layer.gamma.assign(0.5)
    assert {conv.epsilon for conv in (layer.theta, layer.phi, layer.g, layer.o)} == {1e-3}
    clone = assert_config_round_trip(layer)
    assert (clone.kernel_initializer["class_name"], clone.sn_epsilon) == ("GlorotUniform", 1e-3)
    model = keras.Sequential([keras.Input(X.shape[1:]), layer])
    assert_keras_save_load(model, X, tmp_path)
    graph, xla = run_graph_and_xla(lambda x: layer(x, training=False), X)
    np.testing.assert_allclose(graph, xla, rtol=1e-4, atol=1e-4)
