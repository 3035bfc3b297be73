"""The calling convention of class-conditional models (`x` or `[x, labels]`), and their
label draws.

Every backbone (generator or discriminator) is called with a single tensor when it is
unconditional and with the pair `[x, labels]`, int labels of shape (B,), when it is
conditional; callers build that input with `pack` and backbones take it apart with
`unpack`, so the convention is written once. Random class labels (the fakes of a train
step, `GAN.generate` without labels, the standing statistics) are drawn by
`random_labels`.

```python
inputs = conditioning.pack(latents, labels)  # latents, or [latents, labels]
latents, labels = conditioning.unpack(inputs, conditional=True, call="generator",
                                      first="latents")
labels = conditioning.random_labels(16, num_classes=10, seed=seed_generator)
```
"""

from __future__ import annotations

from typing import Any

import keras
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
