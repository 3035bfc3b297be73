"""Where training runs: the `tf.distribute` strategy, and whether XLA and bfloat16 pay there."""

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


# CPU instruction sets with native bfloat16 dot products, as /proc/cpuinfo names them.
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def accelerators():
    """The logical GPU/TPU devices (after `make_strategy`, a TPU's too)."""
    return [d for d in tf.config.list_logical_devices() if d.device_type != "CPU"]


def jit_reason(jit_compile):
    """Why the train step is (not) compiled with XLA, for the start-up summary."""
    if jit_compile != "auto":
        return f"--jit_compile={str(jit_compile).lower()}"
    found = accelerators()
    if found:
        return f"auto: {found[0].device_type} found"
    return "auto: no GPU or TPU, and on CPU graph mode is faster"


def native_bfloat16_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's native bfloat16 instruction sets (e.g. ["avx512_bf16"]); [] when it has
    none or the file is not there (not Linux)."""
    try:
        with open(cpuinfo) as f:
            flags = next(
                (line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []
            )
    except OSError:
        return []
    return [flag for flag in NATIVE_BFLOAT16_FLAGS if flag in flags]


def resolve_precision(mixed_precision, cpuinfo="/proc/cpuinfo"):
    """The Keras dtype policy for `--mixed_precision` and why, for the start-up summary.

    "auto" is "mixed_bfloat16" (float32 weights and optimizer state, bfloat16
    activations) on a CPU-only machine whose CPU has native bfloat16 dot products, where
    oneDNN's convolutions run about twice as fast as in float32, and "float32" (the
    authors' precision) elsewhere: on GPU/TPU and on CPUs without them.

    Returns:
        (policy name, reason).
    """
    if mixed_precision != "auto":
        return mixed_precision, f"--mixed_precision={mixed_precision}"
    found = accelerators()
    if found:
        return "float32", f"auto: {found[0].device_type} found"
    flags = native_bfloat16_flags(cpuinfo)
    if flags:
        return "mixed_bfloat16", f"auto: CPU with native bfloat16 ({flags[0]})"
    return "float32", "auto: CPU without native bfloat16"
