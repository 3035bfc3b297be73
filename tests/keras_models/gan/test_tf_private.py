"""The private TensorFlow and Keras API of keras_models.gan: this test fails, in one place,
on a TensorFlow version outside the range where it is known to work, or when a name is
gone, so that an upgrade shows what to re-check (`keras_models/gan/_tf_private.py`)."""

import re

import keras
import tensorflow as tf

from keras_models.gan import _tf_private
from tests.helpers.checks import two_replica_strategy
from tests.helpers.readme import ROOT


def test_tensorflow_is_in_the_range_where_the_private_api_is_known_to_work():
    version = tuple(int(part) for part in tf.__version__.split(".")[:2])
    low, high = _tf_private.TENSORFLOW_VERSIONS
    assert low <= version < high, (
        f"TensorFlow {tf.__version__} is outside {low} <= version < {high}, where "
        "keras_models/gan/_tf_private.py is known to work: check its functions against "
        "this version, then widen TENSORFLOW_VERSIONS."
    )
    assert int(keras.__version__.split(".")[0]) == _tf_private.KERAS_MAJOR


def test_setup_cfg_requires_the_same_tensorflow_range():
    setup_cfg = (ROOT / "setup.cfg").read_text()
    (low, high) = _tf_private.TENSORFLOW_VERSIONS
    requirement = f"tensorflow>={low[0]}.{low[1]},<{high[0]}.{high[1]}"
    assert re.search(rf"^\s+{re.escape(requirement)}$", setup_cfg, re.MULTILINE), requirement


def test_the_private_names_exist_and_answer_as_the_gan_expects():
    assert callable(tf.__internal__.distribute.interim.maybe_merge_call)
    default = tf.distribute.get_strategy()
    # No strategy: updates need no merge calls, one worker.
    assert _tf_private.strategy_supports_no_merge_call() is True
    assert _tf_private.in_multi_worker_mode(default) is False
    # MirroredStrategy on CPU updates variables through merge calls.
    strategy = two_replica_strategy()
    with strategy.scope():
        assert _tf_private.strategy_supports_no_merge_call() is False
    assert _tf_private.in_multi_worker_mode(strategy) is False
    # maybe_merge_call runs `fn(strategy, *args)` and returns its result.
    assert _tf_private.maybe_merge_call(lambda s, x: (s, x + 1), default, 1) == (default, 2)


def test_flatten_layers_finds_layers_nested_in_python_lists():
    class Blocks(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [keras.layers.Dense(2), keras.layers.BatchNormalization()]

        def call(self, x):
            return self.blocks[1](self.blocks[0](x))

    inputs = keras.Input((3,))
    blocks = Blocks()
    model = keras.Model(inputs, blocks(inputs))
    layers = _tf_private.flatten_layers(model)
    assert model not in layers
    assert blocks in layers and all(any(b is layer for layer in layers) for b in blocks.blocks)
