"""TensorFlow only: dynamic shapes in graphs, the XLA and kernel formulations, run-time
assertions and `tf.distribute` replicas."""

import numpy as np
import pytest

from tests.helpers.backend import BACKEND

if BACKEND != "tensorflow":
    pytest.skip(
        f"TensorFlow graphs, XLA and tf.distribute ({BACKEND} run)", allow_module_level=True
    )

import tensorflow as tf  # noqa: E402

import tf_diffaug  # noqa: E402
from tests.helpers import checks  # noqa: E402

POLICY = "color,translation,cutout"


def images(batch=4, height=16, width=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, height, width, 3)).astype("float32")


def test_cutout_size_is_the_same_for_static_and_dynamic_shapes():
    """45 px with cutout_ratio=0.7: a 32 x 32 square (float32) when the size is a tensor."""
    x = np.ones((1, 45, 45, 3), np.float32)
    layer = tf_diffaug.DiffAugment("cutout", cutout_ratio=0.7)
    params = {"cutout": tf.constant([[22, 22]], tf.int32)}
    dynamic = tf.function(
        lambda images: layer.transform_images(images, params),
        input_signature=[tf.TensorSpec((None, None, None, 3))],
    )
    for out in (layer.transform_images(x, params), dynamic(x)):
        assert (out.numpy()[0] == 0).all(axis=-1).sum() == 32 * 32


def test_dynamic_batch_and_image_size_under_tf_function():
    layer = tf_diffaug.DiffAugment(POLICY, seed=5)
    fn = tf.function(
        lambda x: layer(x, training=True),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
    )
    for batch, height, width in ((1, 8, 8), (5, 12, 20), (3, 33, 17)):
        x = images(batch, height, width)
        out = fn(x)
        assert out.shape == x.shape
        # Same seed, same draws: the traced result equals the eager one.
        eager = tf_diffaug.DiffAugment(POLICY, seed=5)
        eager.seed_generator.state.assign(layer.seed_generator.state - [0, 1])
        np.testing.assert_allclose(eager(x, training=True).numpy(), out.numpy(), atol=1e-6)


def test_xla_equals_graph_for_injected_and_for_seeded_parameters():
    x = images(6, 20, 14)
    layer = tf_diffaug.DiffAugment(POLICY + ",flip", probability=0.7)
    params = layer.get_random_transformation(x, seed=1)
    graph, xla = checks.run_graph_and_xla(lambda v: layer.transform_images(v, params), x)
    np.testing.assert_allclose(xla, graph, atol=1e-6)
    # The RNG is pinned to Philox and floats are built from its bits: same draws in XLA.
    graph, xla = checks.run_graph_and_xla(
        lambda v: layer.policy.sample(v, tf.constant([3, 4], tf.int64)), x
    )
    for key in graph:
        np.testing.assert_array_equal(xla[key], graph[key])


def test_gradient_under_xla_matches_eager():
    x, w = images(), images(seed=1)
    layer = tf_diffaug.DiffAugment(POLICY)
    params = layer.get_random_transformation(x, seed=2)

    def grad(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            loss = tf.reduce_sum(layer.transform_images(v, params) * w)
        return tape.gradient(loss, v)

    graph, xla = checks.run_graph_and_xla(grad, tf.constant(x))
    np.testing.assert_allclose(xla, graph, atol=1e-6)
    np.testing.assert_allclose(grad(tf.constant(x)).numpy(), graph, atol=1e-6)


def test_two_replicas_give_the_one_replica_result_for_the_same_parameters():
    x = images(8, 12, 12)
    layer = tf_diffaug.DiffAugment(POLICY)
    params = {k: v.numpy() for k, v in layer.get_random_transformation(x, seed=3).items()}
    expected = layer.transform_images(x, params).numpy()
    keys = sorted(params)
    batch = (x, *[params[k] for k in keys])

    def shard(x, *values):
        return layer.transform_images(x, dict(zip(keys, values, strict=True)))

    for strategy in (checks.one_replica_strategy(), checks.two_replica_strategy()):
        out = checks.run_per_replica(strategy, shard, batch)
        np.testing.assert_allclose(out, expected, atol=1e-6)


def test_replicas_draw_independent_parameters():
    strategy = checks.two_replica_strategy()
    with strategy.scope():
        layer = tf_diffaug.DiffAugment("translation", seed=0)
    x = np.zeros((64, 32, 32, 3), "float32")
    out = checks.run_per_replica(
        strategy, lambda v: layer.get_random_transformation(v)["translation"], x
    )
    assert out.shape == (64, 2)
    assert not np.array_equal(out[:32], out[32:])


def test_parameters_for_another_batch_size_fail_when_run_if_the_batch_is_dynamic():
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    params = layer.get_random_transformation(images(batch=4))
    fn = tf.function(
        lambda x: layer.transform_images(x, params),
        input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32)],
    )
    assert fn(images(batch=4)).shape == (4, 16, 16, 3)
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"parameters `brightness` were drawn for another batch size than that of the "
        r"images; draw them with `get_random_transformation\(images\)`",
    ):
        fn(images(batch=3))


@pytest.mark.parametrize("value", [2.0, -1.0, float("nan")])
def test_tensor_probability_out_of_range_fails_when_run(value):
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    p = tf.Variable(0.5)
    traced = tf.function(lambda x: layer(x, training=True, probability=p))
    assert traced(images()).shape == (4, 16, 16, 3)
    p.assign(value)
    message = r"probability must be in \[0, 1\]"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        layer(images(), training=True, probability=tf.constant(value))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        traced(images())


def test_tensor_probability_under_xla_is_not_range_checked_and_acts_clipped():
    """XLA drops assertion ops, so the range check is skipped when compiling; a value
    outside [0, 1] then gates as the nearest end would (documented on the layer)."""
    x = images()

    def draw(p):
        layer = tf_diffaug.DiffAugment(POLICY, seed=7)
        return tf.function(lambda v: layer(v, training=True, probability=p), jit_compile=True)(x)

    np.testing.assert_array_equal(draw(tf.constant(2.0)), draw(tf.constant(1.0)))
    np.testing.assert_array_equal(draw(tf.constant(-1.0)), draw(tf.constant(0.0)))
    np.testing.assert_array_equal(draw(tf.constant(0.0)), x)
    graph = tf_diffaug.DiffAugment(POLICY, seed=7)
    p = tf.constant(0.6)
    np.testing.assert_allclose(
        draw(p), tf.function(lambda v: graph(v, training=True, probability=p))(x), atol=1e-6
    )
