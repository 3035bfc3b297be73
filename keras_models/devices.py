"""Where training runs: the `tf.distribute` strategy, and whether XLA and bfloat16 pay there."""

import os
from typing import NamedTuple

import tensorflow as tf


def make_strategy(name: str, tpu: str | None = None) -> tf.distribute.Strategy:
    """The `tf.distribute` strategy of a name.

    Call it before any other TensorFlow op: multi-worker collectives are configured at
    creation.

    Args:
        name: "default", "mirrored", "multiworker" (configured by TF_CONFIG) or "tpu".
        tpu: the TPU's name or address, for "tpu".

    Returns:
        The strategy.

    Raises:
        ValueError: "multiworker" without TF_CONFIG in the environment.
    """
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


def accelerators() -> list[tf.config.LogicalDevice]:
    """The logical GPU/TPU devices (after `make_strategy`, a TPU's too)."""
    return [d for d in tf.config.list_logical_devices() if d.device_type != "CPU"]


def jit_reason(jit_compile: bool | str) -> str:
    """Why the train step is (not) compiled with XLA, for the start-up summary.

    Args:
        jit_compile: `TrainConfig.jit_compile` (True, False or "auto").

    Returns:
        E.g. "auto: GPU found" or "--jit_compile=false".
    """
    if jit_compile != "auto":
        return f"--jit_compile={str(jit_compile).lower()}"
    found = accelerators()
    if found:
        return f"auto: {found[0].device_type} found"
    return "auto: no GPU or TPU, and on CPU graph mode is faster"


def native_bfloat16_flags(cpuinfo: str = "/proc/cpuinfo") -> list[str]:
    """The CPU's native bfloat16 instruction sets (e.g. ["avx512_bf16"]); [] when it has
    none or the file is not there (not Linux).

    Args:
        cpuinfo: the file listing the CPU's flags.
    """
    try:
        with open(cpuinfo) as f:
            flags = next(
                (line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []
            )
    except OSError:
        return []
    return [flag for flag in NATIVE_BFLOAT16_FLAGS if flag in flags]


class Precision(NamedTuple):
    """A Keras dtype policy and why it was chosen."""

    policy: str
    """The Keras dtype policy name, e.g. "mixed_bfloat16"."""
    reason: str
    """Why, for the start-up summary, e.g. "auto: CPU without native bfloat16"."""


def resolve_precision(mixed_precision: str, cpuinfo: str = "/proc/cpuinfo") -> Precision:
    """The Keras dtype policy for `--mixed_precision` and why, for the start-up summary.

    "auto" is "mixed_bfloat16" (float32 weights and optimizer state, bfloat16
    activations) on a CPU-only machine whose CPU has native bfloat16 dot products, where
    oneDNN's convolutions run about twice as fast as in float32, and "float32" (the
    authors' precision) elsewhere: on GPU/TPU and on CPUs without them.

    Args:
        mixed_precision: `TrainConfig.mixed_precision`: "auto" or a policy name.
        cpuinfo: the file listing the CPU's flags.

    Returns:
        The policy and why.
    """
    if mixed_precision != "auto":
        return Precision(mixed_precision, f"--mixed_precision={mixed_precision}")
    found = accelerators()
    if found:
        return Precision("float32", f"auto: {found[0].device_type} found")
    flags = native_bfloat16_flags(cpuinfo)
    if flags:
        return Precision("mixed_bfloat16", f"auto: CPU with native bfloat16 ({flags[0]})")
    return Precision("float32", "auto: CPU without native bfloat16")
