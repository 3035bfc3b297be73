"""Shared checks so that every layer and model is tested the same way.

Each helper asserts a property (a round trip, an equality); none only runs code.
"""

import functools
import os

import keras
import numpy as np
import tensorflow as tf


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


def assert_config_round_trip(obj):
    """from_config(get_config()) rebuilds an object with an identical config."""
    config = obj.get_config()
    clone = obj.__class__.from_config(config)
    assert clone.get_config() == config
    return clone


def assert_keras_save_load(model, inputs, tmp_path, call=None):
    """A `.keras` save/load round trip gives identical outputs.

    Args:
        model: a built Keras model.
        inputs: what to call it with.
        tmp_path: a directory (pytest's tmp_path).
        call: optional `(model, inputs) -> outputs`; defaults to `model(inputs)`.
    Returns:
        The loaded model.
    """
    call = call or (lambda m, x: m(x, training=False))
    expected = keras.ops.convert_to_numpy(call(model, inputs))
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(call(loaded, inputs)), expected)
    return loaded


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
