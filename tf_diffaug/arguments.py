"""Checks of the augmentation's arguments: probabilities, ratios and seeds, each a clear
`ValueError` saying what was expected and what was received."""

import numbers

import keras
import numpy as np
from keras import ops

from tf_diffaug import backend
from tf_diffaug.backend import Tensor


def check_fraction(name: str, value: object, *, allow_zero: bool = True, hint: str = "") -> float:
    """Returns `value` as a float after checking that it is a number in [0, 1] or (0, 1].

    Args:
        name: the argument's name, for the message.
        value: the argument; a Python or NumPy real number (not a bool).
        allow_zero: whether the interval is [0, 1] rather than (0, 1].
        hint: appended to "must be a float in [0, 1]" in the message on a value of
            another type, e.g. what else the argument may be.

    Returns:
        `value` as a Python float.

    Raises:
        ValueError: for a value of another type (None, a bool, a string, a tensor, ...)
            or out of the interval (NaN included).
    """
    interval = "[0, 1]" if allow_zero else "(0, 1]"
    # bool is an int subclass, and float() would take "0.5": both would pass silently.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"`{name}` must be a float in {interval}{hint}. "
            f"Received: {name}={value!r} (of type {type(value).__name__})"
        )
    number = float(value)
    if not (0.0 <= number if allow_zero else 0.0 < number) or not number <= 1.0:
        raise ValueError(f"`{name}` must be in {interval}. Received: {name}={value}")
    return number


def check_seed(seed: object, expected: str = "None or an int") -> int:
    """Returns an integer seed as a Python int, after checking that it fits in int64.

    Args:
        seed: the seed; a Python or NumPy integer (not a bool).
        expected: what the seed may be, for the message.

    Returns:
        `seed` as a Python int (JSON-serializable, for `get_config`).

    Raises:
        ValueError: for a seed of another type, or outside int64, which Keras's and
            TensorFlow's random ops take.
    """
    if (
        isinstance(seed, (int, np.integer))
        and not isinstance(seed, bool)
        and -(2**63) <= seed < 2**63
    ):
        return int(seed)
    raise ValueError(
        f"`seed` must be {expected} in [-2**63, 2**63). "
        f"Received: seed={seed!r} (of type {type(seed).__name__})"
    )


def check_value_range(value_range: object) -> tuple[float, float]:
    """Returns `value_range` as a pair of floats after checking it.

    Args:
        value_range: (low, high), finite real numbers with low < high.

    Returns:
        (low, high) as Python floats (JSON-serializable, for `get_config`).

    Raises:
        ValueError: for anything but two finite numbers in increasing order.
    """
    pair = tuple(value_range) if isinstance(value_range, (list, tuple)) else None
    if (
        pair is None
        or len(pair) != 2
        or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in pair)
        or not all(np.isfinite(float(v)) for v in pair)
        or not float(pair[0]) < float(pair[1])
    ):
        raise ValueError(
            "`value_range` must be a pair (low, high) of finite numbers with low < high, "
            "the range of the images, e.g. (-1, 1) or (0, 1). "
            f"Received: value_range={value_range!r}"
        )
    return float(pair[0]), float(pair[1])


_OR_TENSOR = ", or a scalar float tensor or variable"


def rank(value: Tensor) -> int | None:
    """The rank of a tensor of any backend, None where unknown (a TensorFlow graph)."""
    shape = value.shape
    return len(shape) if isinstance(shape, tuple) else shape.rank


def is_float(value: Tensor) -> bool:
    """Whether a tensor of any backend has a floating-point dtype."""
    return keras.backend.standardize_dtype(value.dtype).startswith(("float", "bfloat"))


def call_probability(probability: object) -> tuple[float | Tensor, bool]:
    """Checks a per-call probability; says whether it needs gating ops.

    A tensor's value is only known when it is computed: in a TensorFlow graph its range
    is asserted then; except under XLA, which compiles assertions to nothing (and logs a
    warning per assertion), and on JAX and PyTorch: there a value out of range gates as
    the nearest end of [0, 1] would.

    Args:
        probability: a Python or NumPy float in [0, 1], or a scalar float tensor,
            variable or NumPy array.

    Returns:
        The probability (a float, or a float32 scalar tensor that waits for the range
        check) and whether to gate: a float only below 1, a tensor always.

    Raises:
        ValueError: for another type, a non-scalar or non-float tensor, or a Python
            value out of [0, 1].
    """
    if isinstance(probability, keras.Variable):
        probability = probability.value
    if not (ops.is_tensor(probability) or isinstance(probability, np.ndarray)):
        probability = check_fraction("probability", probability, hint=_OR_TENSOR)
        return probability, probability < 1.0
    tensor = ops.convert_to_tensor(probability)
    received = None
    if rank(tensor) != 0:
        received = f"shape={tuple(tensor.shape)}"
    elif not is_float(tensor):
        received = f"dtype={keras.backend.standardize_dtype(tensor.dtype)}"
    if received is not None:
        raise ValueError(
            f"`probability` must be a float in [0, 1]{_OR_TENSOR} (one probability for "
            f"every sample). Received: {received}"
        )
    return backend.implementation().checked_probability(ops.cast(tensor, "float32")), True
