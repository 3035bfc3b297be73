"""Translation and cutout as one masked shift: sizes and index algebra, no pixels.

Any run of translation and cutout ops is one map

    y[b, h, w] = x[b, h + ty, w + tx] * inside[b, h, w] * (1 - hole[b, h, w])

`inside` zeroes the pixels whose source lies outside the image (the zero padding of the
translation) and `hole` is the cutout square in output coordinates; a cutout applied
before the translation moves with the image, i.e. its square shifts by -t. `Geometry`
composes the ops into (shift, mask) pairs; `transform.py` moves the pixels.
"""

import dataclasses
from typing import TypeAlias

import numpy as np
from keras import ops

from tf_diffaug.backend import Tensor

Size: TypeAlias = int | Tensor
"""A size: a Python int where the image shape is static, else an int32 scalar tensor
(TensorFlow graphs only: JAX and PyTorch shapes are always static)."""


def scaled_size(side: Size, ratio: float) -> Size:
    """int(side * ratio + 0.5) in float32: the translation bound k and the cutout side c.

    Float32 as in the paper's code (`tf.cast(tf.cast(size, tf.float32) * ratio + 0.5,
    tf.int32)`), for static and dynamic sides alike: in float64, 45 * 0.7 + 0.5 is just
    below 32 and would truncate to 31. Static (a Python int) when `side` is static, so
    that XLA sees constant shapes.
    """
    if isinstance(side, int):
        return int(np.float32(side) * np.float32(ratio) + np.float32(0.5))
    return ops.cast(ops.cast(side, "float32") * ratio + 0.5, "int32")


@dataclasses.dataclass(frozen=True)
class Sizes:
    """An image size and the sizes that the policy's ratios give it.

    Each value is a Python int when the image shape is static, else an int32 scalar.

    Attributes:
        height, width: the image size.
        max_shift: (ky, kx), the largest translation along each axis.
        hole: (ch, cw), the side of the cutout square along each axis.
    """

    height: Size
    width: Size
    max_shift: tuple[Size, Size]
    hole: tuple[Size, Size]

    @classmethod
    def of(cls, images: Tensor, translation_ratio: float, cutout_ratio: float) -> "Sizes":
        """The sizes of an NHWC batch (static where its shape is)."""
        _, height, width, _ = ops.shape(images)
        return cls(
            height,
            width,
            max_shift=(
                scaled_size(height, translation_ratio),
                scaled_size(width, translation_ratio),
            ),
            hole=(scaled_size(height, cutout_ratio), scaled_size(width, cutout_ratio)),
        )


def _interval_mask(size: Size, start: Tensor, length: Size) -> Tensor:
    """(B, size) bool: i in [start, start + length)."""
    index = ops.arange(size)[None, :]
    start = start[:, None]
    return (index >= start) & (index < start + length)


@dataclasses.dataclass(frozen=True)
class Geometry:
    """A run of translation and cutout ops as one masked shift (see the module doc).

    Attributes:
        sizes: the image's `Sizes`.
        shift: (B, 2) int32 translation (ty, tx), or None.
        hole_start: (B, 2) int32 top-left corner of the cutout square, or None.
        hole_applied: (B,) bool: which samples get the cutout (None: all).
    """

    sizes: Sizes
    shift: Tensor | None = None
    hole_start: Tensor | None = None
    hole_applied: Tensor | None = None

    def translation(self, shift: Tensor, applied: Tensor | None = None) -> "Geometry":
        """Then translate by `shift` (per sample, where `applied`)."""
        shift = ops.cast(shift, "int32")
        if applied is not None:
            shift = ops.where(applied[:, None], shift, 0)
        hole_start = None if self.hole_start is None else self.hole_start - shift
        return dataclasses.replace(self, shift=shift, hole_start=hole_start)

    def cutout(self, center: Tensor, applied: Tensor | None = None) -> "Geometry":
        """Then zero the square of side `sizes.hole` centred at `center` (where `applied`)."""
        half = ops.stack([self.sizes.hole[0] // 2, self.sizes.hole[1] // 2])
        return dataclasses.replace(
            self,
            hole_start=ops.cast(center, "int32") - ops.cast(half, "int32"),
            hole_applied=applied,
        )

    def forward(self) -> tuple[Tensor | None, Tensor]:
        """(shift, kept) with y[b, q] = x[b, q + shift[b]] where kept[b, q], else 0.

        `shift` is None for no move; `kept` is (B, H, W) bool, False wherever the source
        lies outside the image.
        """
        return self.shift, self._kept(self.shift, self.hole_start)

    def transposed(self) -> tuple[Tensor | None, Tensor]:
        """(shift, kept) of the adjoint map: x[q] = y[q - t] where the forward map kept q - t.

        A zero-padded shift by t is a partial permutation, so its adjoint is the shift by
        -t with the forward mask moved along: a gather again, never a scatter-add.
        """
        if self.shift is None:
            return self.forward()
        hole_start = None if self.hole_start is None else self.hole_start + self.shift
        return -self.shift, self._kept(-self.shift, hole_start)

    def _kept(self, shift: Tensor | None, hole_start: Tensor | None) -> Tensor:
        """(B, H, W) bool: pixels whose source (shifted by `shift`) is inside the image and
        that lie outside the hole at `hole_start`."""
        height, width, hole = self.sizes.height, self.sizes.width, self.sizes.hole
        kept = None
        if shift is not None:
            rows = _interval_mask(height, -shift[:, 0], height)
            cols = _interval_mask(width, -shift[:, 1], width)
            kept = rows[:, :, None] & cols[:, None, :]
        if hole_start is not None:
            rows = _interval_mask(height, hole_start[:, 0], hole[0])
            if self.hole_applied is not None:
                rows &= self.hole_applied[:, None]
            cols = _interval_mask(width, hole_start[:, 1], hole[1])
            outside = ~(rows[:, :, None] & cols[:, None, :])
            kept = outside if kept is None else kept & outside
        return kept
