"""Every private TensorFlow and Keras API that `keras_models.gan` uses, in one place.

These names are not public API: a TensorFlow or Keras release may rename or remove them.
`TENSORFLOW_VERSIONS` is the range where they are known to work (checked by
`tests/keras_models/gan/test_tf_private.py`, which fails on any other version and when a
name is gone); after an upgrade, check these functions and widen the range.

- `maybe_merge_call` and `strategy_supports_no_merge_call`
  (`tf.__internal__.distribute`): how Keras's optimizers update variables from a replica
  context, with and without merge calls.
- `in_multi_worker_mode` (`StrategyExtended._in_multi_worker_mode`).
- `flatten_layers` (Keras's `Layer._flatten_layers`): every nested layer of a model,
  including layers held in Python lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

# [lowest, highest) TensorFlow versions (major.minor) where the functions below work.
TENSORFLOW_VERSIONS = ((2, 16), (2, 22))
# Keras major version whose private `Layer._flatten_layers` is used.
KERAS_MAJOR = 3


def maybe_merge_call(fn: Callable[..., Any], strategy: tf.distribute.Strategy, *args: Any) -> Any:
    """`fn(strategy, *args)` in cross-replica context: through a merge call where the
    strategy needs one, directly where it updates variables without merge calls."""
    return tf.__internal__.distribute.interim.maybe_merge_call(fn, strategy, *args)


def strategy_supports_no_merge_call() -> bool:
    """Whether the current strategy updates variables without merge calls (XLA, TPU,
    no strategy), which lets updates sit inside a `tf.cond` or `tf.while_loop`."""
    return tf.__internal__.distribute.strategy_supports_no_merge_call()


def in_multi_worker_mode(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` spans several workers (hosts)."""
    return strategy.extended._in_multi_worker_mode()


def flatten_layers(model: keras.layers.Layer) -> list[keras.layers.Layer]:
    """Every layer nested in `model` (recursively, `model` itself excluded)."""
    return list(model._flatten_layers(include_self=False))
