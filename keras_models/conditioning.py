"""The calling convention of class-conditional models: `x` or `[x, labels]`.

Every backbone (generator or discriminator) is called with a single tensor when it is
unconditional and with the pair `[x, labels]`, int labels of shape (B,), when it is
conditional; callers build that input with `pack` and backbones take it apart with
`unpack`, so the convention is written once.

```python
inputs = conditioning.pack(latents, labels)  # latents, or [latents, labels]
latents, labels = conditioning.unpack(inputs, conditional=True, call="generator",
                                      first="latents")
```
"""

from keras import ops


def pack(x, labels=None):
    """The call input of a backbone: `x`, or `[x, labels]` when `labels` is given."""
    return x if labels is None else [x, labels]


def unpack(inputs, *, conditional=None, call="model", first="x"):
    """Splits `x` or `[x, labels]` into `(x, labels or None)`, labels cast to int32.

    Args:
        inputs: a tensor (or array), or a list or tuple `[x, labels]`.
        conditional: True requires labels, False forbids them, None accepts either.
        call: what is being called, for the error message (e.g. "generator").
        first: the name of `x`, for the error message (e.g. "latents").

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


def _describe(inputs):
    if isinstance(inputs, (list, tuple)):
        return f"a {type(inputs).__name__} of {len(inputs)}"
    return f"a single {type(inputs).__name__}"
