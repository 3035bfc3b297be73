"""The non-finite guard of the GAN's updates: snapshot, check, then update or restore.

An update (a D step, or the G step with its EMA update) whose loss (or, without loss
scaling, gradient) is not finite on any replica changes no variable of the networks:
not the weights, nor the optimizer state, nor the non-trainable state that the forward
passes update (batch-norm statistics, spectral-norm vectors, regulariser averages). The
step takes a snapshot of that forward state before its passes, and puts it back when
the update is skipped. `GAN.nonfinite_steps` (a logged metric) counts such train steps
and `GAN.nonfinite_streak` the consecutive ones (see `keras_models.callbacks.
NonFiniteGuard`, which stops training after too many).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import keras
import tensorflow as tf

from keras_models.gan.distribution import replica_sum, run_if

Snapshot = list[tuple[Any, tf.Tensor]]


def snapshot(variables: Iterable[Any]) -> Snapshot:
    """`(variable, value)` pairs of `variables` (the model's forward state, see
    `GAN._forward_state`), taken before an update's forward passes."""
    return [(v, tf.identity(v.value)) for v in variables]


def all_finite(
    loss: tf.Tensor, grads: Sequence[tf.Tensor | None], optimizer: keras.optimizers.Optimizer
) -> tf.Tensor:
    """True on every replica iff the loss is finite on every replica, and so are the
    gradients unless a LossScaleOptimizer handles overflowing gradients itself."""
    finite = tf.math.is_finite(loss)
    if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        finite &= tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None]
        )
    return tf.equal(replica_sum(tf.cast(tf.logical_not(finite), tf.float32)), 0.0)


def apply_if_finite(
    loss: tf.Tensor,
    grads: Sequence[tf.Tensor | None],
    optimizer: keras.optimizers.Optimizer,
    variables: Sequence[Any],
    before: Snapshot,
) -> tf.Tensor:
    """Applies `grads` to `variables` if the update is finite (`all_finite`); otherwise
    puts the snapshot `before` back. Returns the bool scalar `finite`."""
    finite = all_finite(loss, grads, optimizer)
    run_if(finite, lambda g: optimizer.apply(g, variables), grads)
    if before:
        state, values = zip(*before, strict=True)
        restore = lambda *values: [v.assign(x) for v, x in zip(state, values, strict=True)]
        run_if(tf.logical_not(finite), restore, *values)
    return finite
