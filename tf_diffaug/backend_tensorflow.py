"""The TensorFlow backend: Philox draws, `tf.distribute`-aware seeds, graph-time checks,
and the fused transform of `transform.py` with its hand-written gradient.

Draws are stateless, keyed by one (2,) int seed, so that the same seed gives the same
parameters eagerly, in `tf.function`, under XLA and on every replica of a
`tf.distribute` strategy.
"""

import keras
import tensorflow as tf

from tf_diffaug.transform import compiling_with_xla, transform

__all__ = ["base_seed", "checked_batch", "checked_probability", "transform", "unit_draws"]

# One fixed RNG algorithm, so that a seed gives the same draws eagerly, in graph mode and
# under XLA ("auto_select" picks different algorithms per device/compiler).
_ALG = "philox"


def base_seed(seed: int | keras.random.SeedGenerator | None) -> tf.Tensor:
    """A (2,) seed tensor from None, an int (checked to fit in int64) or a
    `keras.random.SeedGenerator`.

    None draws from Keras's global seed generator (seeded by `keras.utils.set_random_seed`).
    Inside a replica of a `tf.distribute` strategy the replica id is folded in, so that
    replicas augment their shards independently instead of repeating each other's draws.
    """
    if isinstance(seed, keras.random.SeedGenerator):
        seed = seed.next()
    elif seed is None:
        seed = keras.random.randint((2,), 0, 2**31 - 1, dtype="int32")
    else:
        seed = tf.constant([seed, 0], tf.int64)
    replica = tf.distribute.get_replica_context()
    if replica is not None and replica.num_replicas_in_sync > 1:
        seed = tf.random.experimental.stateless_fold_in(
            seed, replica.replica_id_in_sync_group, alg=_ALG
        )
    return seed


def unit_draws(seed: tf.Tensor, count: int, batch: int | tf.Tensor) -> tf.Tensor:
    """(count, batch) float32 in [0, 1) on a 2^-23 grid (a float32 mantissa), from one
    Philox call.

    One stateless call for the whole transformation keeps sampling cheap next to the
    image work (it matters at 32 px), and converting the bits ourselves gives identical
    values with and without XLA (whose float conversion inside `stateless_uniform`
    differs from the CPU kernel's).
    """
    bits = tf.random.stateless_uniform(
        (count, batch), seed, minval=None, maxval=None, dtype=tf.uint32, alg=_ALG
    )
    return tf.cast(tf.bitwise.right_shift(bits, 9), tf.float32) * (2.0**-23)


def checked_probability(probability: tf.Tensor) -> tf.Tensor:
    """A float32 scalar probability that asserts, when the graph runs, that it is in
    [0, 1]; except under XLA, which compiles assertions to nothing (and logs a warning
    per assertion): there a value out of range gates as the nearest end of [0, 1] would.
    """
    if compiling_with_xla():
        return probability
    message = "probability must be in [0, 1]"
    with tf.control_dependencies(
        [
            tf.debugging.assert_greater_equal(probability, 0.0, message=message),
            tf.debugging.assert_less_equal(probability, 1.0, message=message),
        ]
    ):
        return tf.identity(probability)


def checked_batch(
    params: dict[str, tf.Tensor], images: tf.Tensor, unchecked: list[str]
) -> dict[str, tf.Tensor]:
    """`params` waiting for a run-time check that each of the `unchecked` entries (whose
    batch size or the images' is only known when the graph runs) has the images' batch
    size; not under XLA, which compiles assertions to nothing."""
    if not unchecked or compiling_with_xla():
        return params
    assertions = [
        tf.debugging.assert_equal(
            tf.shape(params[key])[0],
            tf.shape(images)[0],
            # No apostrophes: TensorFlow escapes them in assertion messages.
            message=f"The transformation parameters `{key}` were drawn for another batch "
            "size than that of the images; draw them with `get_random_transformation(images)`",
        )
        for key in unchecked
    ]
    with tf.control_dependencies(assertions):
        return {key: tf.identity(value) for key, value in params.items()}
