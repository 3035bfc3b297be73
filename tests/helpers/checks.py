"""Shared checks so that every layer and model is tested the same way.

Each helper asserts a property (a round trip, an equality); none only runs code.
"""

import functools
import os

import numpy as np
import tensorflow as tf

from tests.helpers.serialization import (  # noqa: F401  (their home for TF tests)
    assert_config_round_trip,
    assert_keras_save_load,
    constructor_arguments,
)


@functools.cache
def two_replica_strategy():
    """A MirroredStrategy over the two logical CPUs set up in conftest.py.

    Cached: strategies created in one process share collective keys, so a second
    MirroredStrategy over the same devices can collide with the first."""
    devices = [d.name for d in tf.config.list_logical_devices("CPU")][:2]
    assert len(devices) == 2, "conftest.py must split the CPU into two logical devices"
    return tf.distribute.MirroredStrategy(devices)


def one_replica_strategy():
    return tf.distribute.OneDeviceStrategy("/cpu:0")


def run_graph_and_xla(fn, *args):
    """Runs `fn` in graph mode and under XLA; returns both results as NumPy."""
    graph = tf.function(fn, jit_compile=False)(*args)
    xla = tf.function(fn, jit_compile=True)(*args)
    return tf.nest.map_structure(np.asarray, graph), tf.nest.map_structure(np.asarray, xla)


def run_per_replica(strategy, fn, global_batch):
    """Splits `global_batch` (an array or a tuple of arrays with a common first axis)
    across the replicas of `strategy`, runs `fn(*shard)` on each, and concatenates the
    per-replica outputs in replica order."""
    size = len(global_batch[0] if isinstance(global_batch, tuple) else global_batch)
    dataset = tf.data.Dataset.from_tensor_slices(global_batch).batch(size)
    shard = next(iter(strategy.experimental_distribute_dataset(dataset)))
    args = shard if isinstance(shard, tuple) else (shard,)
    outputs = strategy.run(tf.function(fn), args=args)
    return np.concatenate(
        [np.asarray(t) for t in strategy.experimental_local_results(outputs)], axis=0
    )


def weights_after_one_step(make_gan, batch, strategy):
    """G, D and EMA weights around one `fit` step of `make_gan()` built under `strategy`.

    Args:
        make_gan: `() -> compiled GAN`, called in the strategy's scope; it must build
            the same initial weights each time (seed them).
        batch: the global batch (an array or a tuple of arrays).
        strategy: a `tf.distribute.Strategy`.

    Returns:
        `(paths, before, after)`: the weights' paths and values (NumPy), in the
        networks' weight order.
    """
    with strategy.scope():
        gan = make_gan()
    networks = [gan.generator, gan.discriminator, gan.ema_generator]
    weights = [w for net in networks if net is not None for w in net.weights]
    before = [np.array(w) for w in weights]
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    gan.fit(dataset, epochs=1, steps_per_epoch=1, shuffle=False, verbose=0)
    return [w.path for w in weights], before, [np.array(w) for w in weights]


def assert_two_replicas_take_the_step_of_one(make_gan, batch, exclude=()):
    """A step on two replicas equals a step on one with the same global batch.

    The step must divide its losses by the global batch, sum the gradients over the
    replicas and average what it tracks across them (e.g. StyleGAN2's `w_avg`): a loss
    divided by the per-replica batch, or each replica updating with its own gradients,
    gives different weights. Use SGD: Adam's update is invariant to the gradient scale.

    Args:
        make_gan: as in `weights_after_one_step`.
        batch: the global batch.
        exclude: substrings of weight paths whose step depends on per-replica random
            draws (e.g. noise strengths), left out of the comparison.

    Returns:
        `(paths, weights)`: the weights' paths and values after the one-replica step.
    """
    paths, before, one = weights_after_one_step(make_gan, batch, one_replica_strategy())
    _, before_2, two = weights_after_one_step(make_gan, batch, two_replica_strategy())
    compared = [i for i, path in enumerate(paths) if not any(e in path for e in exclude)]
    for i in compared:
        np.testing.assert_array_equal(before_2[i], before[i], err_msg=f"initial {paths[i]}")
        np.testing.assert_allclose(two[i], one[i], rtol=1e-4, atol=1e-6, err_msg=paths[i])
    moved = [i for i in compared if not np.array_equal(one[i], before[i])]
    assert len(moved) > len(compared) // 2, "the step must change most weights"
    return paths, one


def _trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def assert_backbone_interface(
    generator, discriminator, tmp_path, *, width, block_names, trainable_counts
):
    """The `keras_models.backbone` contract, the same for every family.

    Args:
        generator, discriminator: a family's models fresh from `from_preset` (no call
            yet), at `width`.
        tmp_path: a directory for the `.keras` round trips.
        width: the `width` they were made with.
        block_names: the expected names of `discriminator.blocks_from_input()`.
        trainable_counts: the expected (G, D) trainable parameter counts.
    """
    from keras_models.backbone import DiscriminatorBackbone, GeneratorBackbone

    g, d = generator, discriminator
    assert isinstance(g, GeneratorBackbone) and isinstance(d, DiscriminatorBackbone)
    assert (g.width, d.width, g.resolution) == (width, width, d.resolution)
    assert g.num_classes == d.num_classes
    # Every weight exists before any call, and a call creates no other.
    assert g.built and d.built
    before = [(w.path, tuple(w.shape)) for w in g.weights + d.weights]
    counts = (g.count_params(), d.count_params())
    assert (_trainable_count(g), _trainable_count(d)) == tuple(trainable_counts)
    # Inputs of the shapes `call_input_shape` gives, batch 2.
    make = lambda shape, i: (
        np.random.default_rng(i).normal(size=(2, *shape[1:])).astype("float32")
        if len(shape) > 1
        else np.arange(2, dtype="int32") % (g.num_classes or 1)
    )
    as_inputs = lambda spec: (
        [make(s, i) for i, s in enumerate(spec)] if isinstance(spec, list) else make(spec, 0)
    )
    g_inputs = as_inputs(g.call_input_shape)
    images = np.asarray(g(g_inputs, training=False))
    assert images.shape == (2, g.resolution, g.resolution, 3)
    d_inputs = as_inputs(d.call_input_shape)
    d_inputs = [images, d_inputs[1]] if isinstance(d_inputs, list) else images
    assert tuple(d(d_inputs, training=False).shape) == (2, 1)
    assert [(w.path, tuple(w.shape)) for w in g.weights + d.weights] == before
    assert (g.count_params(), d.count_params()) == counts
    # The blocks from the image side chain from the images, and are D's own layers.
    blocks = d.blocks_from_input()
    assert [b.name for b in blocks] == list(block_names)
    own = {id(layer) for layer in d._flatten_layers(include_self=False)}
    assert all(id(b) in own for b in blocks)
    h = images
    for block in blocks:
        h = block(h)
    assert h.shape[0] == 2 and h.shape[1] < g.resolution
    # A config round trip rebuilds the same weights at construction; `.keras` round trips.
    for model, inputs, sub in ((g, g_inputs, "g"), (d, d_inputs, "d")):
        clone = assert_config_round_trip(model)
        assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
        os.makedirs(os.path.join(str(tmp_path), sub), exist_ok=True)
        loaded = assert_keras_save_load(model, inputs, os.path.join(str(tmp_path), sub))
        assert loaded.count_params() == model.count_params()
