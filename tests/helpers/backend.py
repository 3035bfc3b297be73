"""The same test under every Keras backend: tensors, gradients and compilation.

`tests/tf_diffaug` runs under KERAS_BACKEND=tensorflow, jax and torch
(`tests/tf_diffaug/test_backends.py` starts the other backends' runs); its tests go
through these helpers instead of a backend's own API.
"""

import keras
import pytest
from keras import ops

BACKEND = keras.backend.backend()

tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow", reason=f"TensorFlow graphs, XLA or tf.distribute ({BACKEND} run)"
)


def tensor(values, dtype=None):
    """A tensor of the backend."""
    return ops.convert_to_tensor(values, dtype)


def numpy(value):
    """A tensor (bfloat16 included) or a dict of them, as NumPy (bfloat16 as float32)."""
    if isinstance(value, dict):
        return {key: numpy(v) for key, v in value.items()}
    if keras.backend.standardize_dtype(value.dtype) == "bfloat16":
        value = ops.cast(value, "float32")
    return ops.convert_to_numpy(value)


def compiled(fn):
    """`fn` compiled as the backend's users compile it: XLA under TensorFlow, `jax.jit`
    under JAX; PyTorch runs it eagerly (`torch.compile` is benchmarked, not tested)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    return fn


def gradient(loss, x, compile=False):
    """d loss(x) / dx for a scalar `loss` of a float32 NumPy array `x`, as NumPy."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        def grad(v):
            with tf.GradientTape() as tape:
                tape.watch(v)
                value = loss(v)
            return tape.gradient(value, v)

    elif BACKEND == "jax":
        import jax

        grad = jax.grad(loss)
    else:
        import torch

        def grad(v):
            v = v.detach().requires_grad_(True)
            return torch.autograd.grad(loss(v), v)[0]

    return numpy((compiled(grad) if compile else grad)(tensor(x)))
