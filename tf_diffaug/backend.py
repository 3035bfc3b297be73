"""The one place that looks at the Keras backend: which implementation runs the pixels.

Everything else in `tf_diffaug` is written in `keras.ops`, so the policy, the parameter
draws' algebra, the colour and geometry composition and every check are shared by all
backends. Three things are backend-specific, and each backend module provides them with
the same signatures:

- `base_seed(seed)`: what the random draws are keyed by;
- `unit_draws(seed, count, batch)`: (count, batch) float32 in [0, 1) on a 2^-23 grid;
- `transform(images, color, geometry)`: a `ColorAffine` then a `Geometry` applied to
  an NHWC float batch;
- `checked_probability(p)` and `checked_batch(values, images, key)`: the run-time value
  checks that only a graph (TensorFlow) can defer.

TensorFlow keeps its fused, hand-differentiated transform and Philox draws
(`backend_tensorflow.py`); JAX and PyTorch run the same semantics in `keras.ops` with
the backend's own autodiff and random numbers (`backend_ops.py`). The TensorFlow module is
imported only on the TensorFlow backend, so JAX and PyTorch users need no TensorFlow.
"""

import importlib
from types import ModuleType
from typing import Any, TypeAlias

import keras

Tensor: TypeAlias = Any
"""A tensor of the current Keras backend: `tf.Tensor`, `jax.Array` or `torch.Tensor`."""

SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")

_MODULES = {"tensorflow": "tf_diffaug.backend_tensorflow"}
_PORTABLE = "tf_diffaug.backend_ops"


def name() -> str:
    """The Keras backend in use, e.g. "tensorflow"."""
    return keras.backend.backend()


def check_supported() -> None:
    """Raises a clear error on a Keras backend that DiffAugment does not run on.

    Raises:
        ValueError: naming the backend and the supported ones.
    """
    if name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"DiffAugment runs on the {', '.join(SUPPORTED_BACKENDS)} Keras backends; the "
            f"current backend is {name()!r}. Set the environment variable KERAS_BACKEND to "
            "one of them before importing keras."
        )


_implementation: ModuleType | None = None


def implementation() -> ModuleType:
    """The backend module (see the module docstring) for the current Keras backend.

    Imported once: the backend of a process is fixed when Keras loads, and a plain global
    read is something `torch.compile` traces through, unlike an import.
    """
    global _implementation
    if _implementation is None:
        check_supported()
        _implementation = importlib.import_module(_MODULES.get(name(), _PORTABLE))
    return _implementation
