"""Replica helpers of the GAN's train step: identical updates on every replica.

Under a `tf.distribute` strategy the train step runs once per replica (replica context).
Random draws are made for the global batch and each replica keeps its rows, so they do
not depend on the replica count; values derived from all-reduced quantities are equal
on every replica, and are assigned the way Keras's optimizers update variables, which
works with and without a strategy, with merge calls (MirroredStrategy in graph mode) and
without them (XLA, TPU). Without a strategy the default replica context makes every
helper a plain single-device operation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

from keras_models.gan import _tf_private


def num_replicas() -> int:
    """The number of replicas that run the step in sync (1 without a strategy)."""
    return tf.distribute.get_replica_context().num_replicas_in_sync


def replica_rows(values: Any, local_batch: tf.Tensor | int) -> Any:
    """This replica's rows of tensors drawn for the global batch (rows are replica-major,
    as `tf.distribute` splits a dataset batch)."""
    context = tf.distribute.get_replica_context()
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * local_batch
    return tf.nest.map_structure(lambda v: v[start : start + local_batch], values)


def replica_sum(value: tf.Tensor) -> tf.Tensor:
    """`value` summed over all replicas (the same result on every replica)."""
    return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, value)


def no_merge_calls() -> bool:
    """Whether the current strategy updates variables without merge calls, which may not
    sit inside a `tf.cond` or `tf.while_loop` of a replica context."""
    return _tf_private.strategy_supports_no_merge_call()


def assign_on_replicas(assignments: Sequence[tuple[Any, tf.Tensor]]) -> None:
    """Assigns `(variable, value)` pairs on every replica from a replica context.

    Values must be equal on all replicas (derived from all-reduced quantities).
    """

    def update(strategy, assignments):
        for variable, value in assignments:
            strategy.extended.update(
                variable, lambda var, new: var.assign(new), args=(value,), group=False
            )

    _tf_private.maybe_merge_call(
        update, tf.distribute.get_strategy(), [(v.value, x) for v, x in assignments]
    )


def run_if(condition: tf.Tensor, fn: Callable[..., Any], *args: Any) -> None:
    """`fn(*args)` in replica context if `condition`, else nothing changes at all.

    `condition` must be equal on all replicas. Under a strategy that needs merge calls the
    `tf.cond` must be taken in cross-replica context, since `fn` may merge-call (optimizer
    updates, assignments of aggregated variables) and a merge call may not sit inside a
    replica-context `cond` (Keras's LossScaleOptimizer does the same).
    """

    def run(*args):  # returns nothing, as the other branch
        fn(*args)

    if no_merge_calls():
        tf.cond(condition, lambda: run(*args), lambda: None)
        return

    def cross_replica(strategy, condition, args):
        condition = strategy.experimental_local_results(condition)[0]
        tf.cond(
            condition,
            lambda: strategy.extended.call_for_each_replica(run, args=args),
            lambda: None,
        )

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(condition, args))


def all_steps(step: Callable[[Any], tf.Tensor], count: int, in_a_loop: bool) -> tf.Tensor:
    """Runs `step(i)` for i = 0, ..., count - 1 in order; True iff every call returned
    True (a bool scalar).

    With `in_a_loop` (and count > 1) the calls run in a `tf.while_loop`, so that `step`
    is traced and optimised once however many there are (i is then an int32 tensor);
    only where updates may sit inside a loop (`no_merge_calls`). Otherwise they are
    unrolled (i a Python int).
    """
    if count == 1 or not in_a_loop:
        return functools.reduce(tf.logical_and, [step(i) for i in range(count)])

    def body(i, finite):
        return i + 1, finite & step(i)

    _, finite = tf.while_loop(lambda i, _: i < count, body, (tf.constant(0), True))
    return finite
