"""Initializer identifiers that give every layer its own random draw."""

from typing import Any

import keras


def initializer_config(identifier: Any) -> dict[str, Any]:
    """Returns `identifier` as a serialized initializer dict.

    A Keras 3 initializer instance fixes its seed when it is created, so one instance shared by
    several layers gives them identical weights. Layers built from the serialized dict each
    deserialize a new instance and draw different values, and the dict goes into `get_config`.

    Args:
        identifier: anything `keras.initializers.get` accepts.

    Returns:
        The initializer's serialized config.
    """
    return keras.initializers.serialize(keras.initializers.get(identifier))
