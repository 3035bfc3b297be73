"""Random draws: all the parameters of one transformation from a single random call."""

from keras import ops

from tf_diffaug import backend
from tf_diffaug.backend import Tensor
from tf_diffaug.geometry import Size


class Draw:
    """All the random numbers of one transformation, from a single random call.

    Each `uniform` / `randint` consumes one row of `count` rows of per-sample numbers in
    [0, 1) on a 2^-23 grid (the backend's `unit_draws`). One call for the whole
    transformation keeps sampling cheap next to the image work (it matters at 32 px).

    Args:
        seed: what the backend's random ops are keyed by (`backend.implementation()
            .base_seed`): a (2,) int tensor on TensorFlow, e.g. from
            `keras.random.SeedGenerator.next()`.
        batch: number of samples (a tensor for a dynamic batch in a TensorFlow graph).
        count: number of `uniform` / `randint` calls that will be made.
    """

    def __init__(self, seed: object, batch: Size, count: int) -> None:
        self._units = backend.implementation().unit_draws(seed, count, batch)
        self._used = 0

    def _unit(self) -> Tensor:
        """(B,) floats in [0, 1) on a 2^-23 grid (a float32 mantissa), so that
        minval + width * unit is exact and never rounds up to maxval for the ranges here."""
        unit = self._units[self._used]
        self._used += 1
        return unit

    def uniform(self, minval: float, maxval: float) -> Tensor:
        """(B,) float32 in [minval, maxval)."""
        return minval + (maxval - minval) * self._unit()

    def randint(self, minval: Size, maxval: Size) -> Tensor:
        """(B,) int32 in [minval, maxval); bounds may be tensors (dynamic image sizes).

        The 2^-23 grid biases values by at most span / 2^23 (< 1e-5 for spans below 65).
        """
        span = maxval - minval
        index = ops.cast(self._unit() * ops.cast(span, "float32"), "int32")
        return minval + ops.minimum(index, span - 1)
