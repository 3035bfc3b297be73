"""Where training runs: the `tf.distribute` strategy, and whether XLA pays there."""

import os

import tensorflow as tf


def make_strategy(name, tpu=None):
    """The `tf.distribute` strategy "default", "mirrored", "multiworker" (configured by
    TF_CONFIG) or "tpu" (`tpu`: its name or address). Call it before any other
    TensorFlow op: multi-worker collectives are configured at creation."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "Expected TF_CONFIG (the cluster and this task) for --strategy=multiworker. "
                "Received: no TF_CONFIG in the environment."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    return tf.distribute.get_strategy()


def jit_reason(jit_compile):
    """Why the train step is (not) compiled with XLA, for the start-up summary."""
    if jit_compile != "auto":
        return f"--jit_compile={str(jit_compile).lower()}"
    accelerators = [d for d in tf.config.list_physical_devices() if d.device_type != "CPU"]
    if accelerators:
        return f"auto: {accelerators[0].device_type} found"
    return "auto: no GPU or TPU, and on CPU graph mode is faster"
