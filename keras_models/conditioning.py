"""The calling convention of class-conditional models (`x` or `[x, labels]`), and their
label draws.

Every backbone (generator or discriminator) is called with a single tensor when it is
unconditional and with the pair `[x, labels]`, int labels of shape (B,), when it is
conditional; callers build that input with `pack` and backbones take it apart with
`unpack`, so the convention is written once. Labels given to a GAN (its dataset's,
`GAN.generate`'s) are checked by `check_labels`; random class labels (the fakes of a
train step, `GAN.generate` without labels, the standing statistics) are drawn by
`random_labels`.

```python
inputs = conditioning.pack(latents, labels)  # latents, or [latents, labels]
latents, labels = conditioning.unpack(inputs, conditional=True, call="generator",
                                      first="latents")
labels = conditioning.check_labels([3, 7], num_classes=10)  # int32 (2,), or ValueError
labels = conditioning.random_labels(16, num_classes=10, seed=seed_generator)
```
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops


def pack(x: Any, labels: Any | None = None) -> Any:
    """The call input of a backbone.

    Args:
        x: the first input (latents or images).
        labels: int (B,) class indices, or None for an unconditional backbone.

    Returns:
        `x`, or `[x, labels]` when `labels` is given.
    """
    return x if labels is None else [x, labels]


def unpack(
    inputs: Any, *, conditional: bool | None = None, call: str = "model", first: str = "x"
) -> tuple[Any, Any | None]:
    """Splits `x` or `[x, labels]` into `(x, labels or None)`, labels cast to int32.

    Args:
        inputs: a tensor (or array), or a list or tuple `[x, labels]`.
        conditional: True requires labels, False forbids them, None accepts either.
        call: what is being called, for the error message (e.g. "generator").
        first: the name of `x`, for the error message (e.g. "latents").

    Returns:
        `(x, labels)`, labels int32 or None.

    Raises:
        ValueError: when `inputs` does not match `conditional`.
    """
    is_pair = isinstance(inputs, (list, tuple))
    if (is_pair and len(inputs) != 2) or (conditional and not is_pair):
        raise ValueError(
            f"A conditional {call} (num_classes set) is called as {call}([{first}, labels]) "
            f"with int labels (B,). Received: {_describe(inputs)}"
        )
    if conditional is False and is_pair:
        raise ValueError(
            f"An unconditional {call} (num_classes=None) is called as {call}({first}), a "
            f"single tensor. Received: {_describe(inputs)}"
        )
    if is_pair:
        return inputs[0], ops.cast(inputs[1], "int32")
    return inputs, None


def check_labels(labels: Any, num_classes: int, num: int | None = None) -> tf.Tensor:
    """The class labels given to a conditional GAN, checked, as int32 (B,).

    Labels are integer class ids of shape (B,); (B, 1), the shape of Keras's datasets'
    `y`, is flattened. Inside a graph their shape is checked when traced and their range
    when run; eagerly (`GAN.generate`) both at once.

    Args:
        labels: the labels (tensor, array or list).
        num_classes: labels must be in `[0, num_classes)`.
        num: the number of labels expected (B), or None for any.

    Returns:
        int32 (B,) tensor.

    Raises:
        ValueError: for labels that are not integer class ids of shape (num,) (one-hot
            labels, for one), or, eagerly, outside `[0, num_classes)`.
        tf.errors.InvalidArgumentError: in a graph, when run, for a label outside
            `[0, num_classes)`.
    """
    labels = tf.convert_to_tensor(labels)
    shape = labels.shape
    expected = f"Expected integer class ids of shape ({'B' if num is None else num},)"
    if shape.rank is not None:
        flat = shape.rank == 1 or (shape.rank == 2 and shape[1] == 1)
        count = shape[0] if shape.rank else None
        miscounted = None not in (num, count) and count != num
        if not flat or miscounted:
            one_hot = " (one-hot? pass their argmax)" if shape.rank == 2 and not flat else ""
            raise ValueError(f"{expected}. Received: labels of shape {tuple(shape)}{one_hot}.")
    if not labels.dtype.is_integer:
        raise ValueError(f"{expected}. Received: labels of dtype {labels.dtype.name}.")
    labels = tf.reshape(labels, [-1])
    message = f"Expected class labels in [0, num_classes={num_classes}). Received: min"
    low, high = tf.reduce_min(labels), tf.reduce_max(labels)
    if tf.executing_eagerly():
        if low < 0 or high >= num_classes:
            raise ValueError(f"{message}={int(low)}, max={int(high)}.")
        return tf.cast(labels, tf.int32)
    # An out-of-range label would fail inside an embedding lookup with an opaque error
    # (or, on a GPU, read zeros). XLA compiles the check away.
    check = tf.debugging.Assert((low >= 0) & (high < num_classes), [message, low, "max", high])
    labels = tf.cast(labels, tf.int32)  # no op for int32 labels: the identity carries the check
    with tf.control_dependencies([check]):  # before any use of the labels
        return tf.identity(labels)


def random_labels(num: Any, num_classes: int, seed: Any = None) -> Any:
    """Class labels drawn uniformly, as the authors' BigGAN code draws the fakes' labels.

    Args:
        num: how many labels (an int or a scalar int tensor).
        num_classes: labels are drawn from `[0, num_classes)`.
        seed: as `keras.random.randint`'s: an int, a `keras.random.SeedGenerator` (whose
            state advances), or None.

    Returns:
        int32 (num,) tensor.
    """
    return keras.random.randint((num,), 0, num_classes, seed=seed, dtype="int32")


def _describe(inputs):
    if isinstance(inputs, (list, tuple)):
        return f"a {type(inputs).__name__} of {len(inputs)}"
    return f"a single {type(inputs).__name__}"
