"""Training state kept as weights of a layer, so that checkpoints and replicas carry it."""

import keras


def scalar_state(layer: keras.layers.Layer, name: str, value: float) -> keras.Variable:
    """A float32 scalar non-trainable weight of `layer`, initialised to `value` and never
    cast by a mixed-precision policy (e.g. ADA's p, LeCam's anchors)."""
    return layer.add_weight(
        shape=(),
        initializer=keras.initializers.Constant(value),
        dtype="float32",
        trainable=False,
        autocast=False,
        name=name,
    )
