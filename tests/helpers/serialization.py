"""Config and `.keras` round trips, on any Keras backend."""

import inspect
import os

import keras
import numpy as np


def constructor_arguments(cls):
    """The named arguments of `cls.__init__` (not self, *args or **kwargs)."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in parameters if p.name != "self" and p.kind not in variadic]


def _comparable(value):
    """A value in a form `==` compares: Keras objects by their serialized config."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, np.ndarray | keras.Variable) or keras.ops.is_tensor(value):
        return np.asarray(value).tolist()
    if hasattr(value, "get_config"):
        return keras.saving.serialize_keras_object(value)
    return value


def assert_config_round_trip(obj):
    """`get_config()` holds every constructor argument, and `from_config` rebuilds an
    object with the same config and the same value of each argument's attribute.

    Keras's base arguments (name, dtype, trainable) are in `**kwargs` and kept by the
    base class's `get_config`, so only the class's own named arguments are checked.
    An argument stored under its own name (`self.interval = interval`) must have the
    same value in the rebuilt object as in the original (the config may spell it
    differently, e.g. a policy string for a parsed policy).
    """
    config = obj.get_config()
    # Another name of an argument (e.g. StyleGAN2's `fmap_base` for `width`) is kept
    # under the argument's own name.
    aliases = getattr(type(obj), "argument_aliases", {})
    arguments = [name for name in constructor_arguments(type(obj)) if name not in aliases]
    missing = [name for name in arguments if name not in config]
    assert not missing, f"{type(obj).__name__}.get_config() lacks {missing}"
    clone = obj.__class__.from_config(config)
    assert clone.get_config() == config
    for name in arguments:
        if not hasattr(obj, name):
            continue
        same = _comparable(getattr(clone, name)) == _comparable(getattr(obj, name))
        assert same, f"{type(obj).__name__}.{name} changed in the round trip"
    return clone


def assert_keras_save_load(model, inputs, tmp_path, call=None):
    """A `.keras` save/load round trip gives identical outputs.

    Args:
        model: a built Keras model.
        inputs: what to call it with.
        tmp_path: a directory (pytest's tmp_path).
        call: optional `(model, inputs) -> outputs`; defaults to `model(inputs)`.
    Returns:
        The loaded model.
    """
    call = call or (lambda m, x: m(x, training=False))
    expected = keras.ops.convert_to_numpy(call(model, inputs))
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(call(loaded, inputs)), expected)
    return loaded
