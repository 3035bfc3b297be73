"""Random draws: all the parameters of one transformation from a single Philox call.

Draws are stateless, keyed by one (2,) int seed, so that the same seed gives the same
parameters eagerly, in `tf.function`, under XLA and on every replica of a
`tf.distribute` strategy.
"""

import tensorflow as tf

# One fixed RNG algorithm, so that a seed gives the same draws eagerly, in graph mode and
# under XLA ("auto_select" picks different algorithms per device/compiler).
_ALG = "philox"


def fold_in(seed: tf.Tensor, data: int | tf.Tensor) -> tf.Tensor:
    """A new stateless seed from `seed` and an integer (`data` may be a tensor).

    Args:
        seed: int tensor of shape (2,).
        data: the integer to fold in, e.g. a replica id.

    Returns:
        An int tensor of shape (2,).
    """
    return tf.random.experimental.stateless_fold_in(seed, data, alg=_ALG)


class Draw:
    """All the random numbers of one transformation, from a single Philox call.

    Each `uniform` / `randint` consumes one row of `count` rows of per-sample random
    bits. One stateless call for the whole transformation keeps sampling cheap next to
    the image work (it matters at 32 px), and converting the bits ourselves gives
    identical values with and without XLA (whose float conversion inside
    `stateless_uniform` differs from the CPU kernel's).

    Args:
        seed: int tensor of shape (2,), e.g. from `keras.random.SeedGenerator.next()`.
        batch: number of samples (may be a tensor).
        count: number of `uniform` / `randint` calls that will be made.
    """

    def __init__(self, seed: tf.Tensor, batch: int | tf.Tensor, count: int) -> None:
        self._bits = tf.random.stateless_uniform(
            (count, batch), seed, minval=None, maxval=None, dtype=tf.uint32, alg=_ALG
        )
        self._used = 0

    def _unit(self) -> tf.Tensor:
        """(B,) floats in [0, 1) on a 2^-23 grid (a float32 mantissa), so that
        minval + width * unit is exact and never rounds up to maxval for the ranges here."""
        bits = self._bits[self._used]
        self._used += 1
        return tf.cast(tf.bitwise.right_shift(bits, 9), tf.float32) * (2.0**-23)

    def uniform(self, minval: float, maxval: float) -> tf.Tensor:
        """(B,) float32 in [minval, maxval)."""
        return minval + (maxval - minval) * self._unit()

    def randint(self, minval: int | tf.Tensor, maxval: int | tf.Tensor) -> tf.Tensor:
        """(B,) int32 in [minval, maxval); bounds may be tensors (dynamic image sizes).

        The 2^-23 grid biases values by at most span / 2^23 (< 1e-5 for spans below 65).
        """
        span = maxval - minval
        index = tf.cast(self._unit() * tf.cast(span, tf.float32), tf.int32)
        return minval + tf.minimum(index, span - 1)
