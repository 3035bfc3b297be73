"""The op registry: one entry per op, saying how its parameters are drawn and how it applies.

Every op works on a float NHWC batch and is differentiable with respect to the images.
Its entry in `OPS` draws the per-sample parameters stored under the op's name in the
transformation dict, and composes the op into the transformation:

- `brightness`: float32 (B,), b ~ U[-0.5, 0.5); x + b.
- `saturation`: float32 (B,), s ~ U[0, 2); (x - m) * s + m, m = mean over channels.
- `contrast`: float32 (B,), c ~ U[0.5, 1.5); (x - m) * c + m, m = mean over H, W, C.
- `translation`: int32 (B, 2) = (ty, tx), each in [-k, k]; out[h, w] = x[h + ty, w + tx],
  zero where the source lies outside the image.
- `cutout`: int32 (B, 2) = (cy, cx), each in [0, side + (1 - c % 2)); zero rows
  [cy - c//2, cy - c//2 + c) x columns [cx - c//2, cx - c//2 + c), clipped to the image.
- `flip` (extra): bool (B,); left-right flip where True.
- `rotate90` (extra, square images): int32 (B,) k in {0, 1, 2, 3}; `np.rot90(x, k)`.

Here k = int(side * translation_ratio + 0.5) and c = int(side * cutout_ratio + 0.5),
computed in float32, with side = H for ty, cy and W for tx, cx (`geometry.Sizes`). These
are the semantics of the paper's TensorFlow code (mit-han-lab/data-efficient-gans,
`DiffAugment_tf.py`). With `probability < 1`, skipped samples get the entry's identity
parameters; cutout, which has none, records them in a bool `"cutout_applied"` entry.

Color ops compose into a `color.ColorAffine` and translation/cutout into a
`geometry.Geometry`, which `transform.transform` applies in one fused pass; `flip` and
`rotate90` apply on their own.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, TypeAlias

from keras import ops

from tf_diffaug.backend import Tensor
from tf_diffaug.color import ColorAffine
from tf_diffaug.draws import Draw
from tf_diffaug.geometry import Geometry, Size, Sizes

Sampler: TypeAlias = Callable[[Draw, Sizes], Tensor]
"""`(draw, sizes) -> params`: an op's per-sample parameters for a batch."""
Identity: TypeAlias = Callable[[Size], Tensor]
"""`(batch) -> params` that leave every sample unchanged."""

COLOR, GEOMETRY, IMAGE = "color", "geometry", "image"


@dataclasses.dataclass(frozen=True)
class Op:
    """One augmentation op.

    Attributes:
        name: the name used in policies and as the key of the transformation dict.
        kind: `COLOR`, `GEOMETRY` or `IMAGE`: how `apply` composes.
        sample: `(draw, sizes) -> params` for a batch, from a `draws.Draw` and the
            image's `geometry.Sizes`.
        apply: for `COLOR`, `(ColorAffine, params) -> ColorAffine`; for `GEOMETRY`,
            `(Geometry, params, applied) -> Geometry` with `applied` a (B,) bool or None;
            for `IMAGE`, `(images, params) -> images`, deterministic and differentiable.
        identity: `(batch) -> params` that leave a sample unchanged, or None when the op
            has no identity parameters (cutout), in which case skipped samples are
            recorded in a `"<name>_applied"` bool entry.
        num_draws: how many `Draw` rows `sample` uses.
        in_image_units: whether the parameters are in the units of the images' values
            (of the paper's [-1, 1]), which scale to another `value_range`.
    """

    name: str
    kind: str
    sample: Sampler
    apply: Callable[..., Any]  # its signature depends on `kind` (see above)
    identity: Identity | None
    num_draws: int = 1
    in_image_units: bool = False


def _uniform(minval: float, maxval: float) -> Sampler:
    """A sampler of (B,) float32 in [minval, maxval)."""
    return lambda draw, sizes: draw.uniform(minval, maxval)


def _constant(value: float | bool, dtype: str = "float32", shape: tuple[int, ...] = ()) -> Identity:
    """Identity parameters: a (B, *shape) tensor filled with `value`."""
    return lambda batch: ops.full((batch, *shape), value, dtype)


def _sample_translation(draw: Draw, sizes: Sizes) -> Tensor:
    ky, kx = sizes.max_shift
    return ops.stack([draw.randint(-ky, ky + 1), draw.randint(-kx, kx + 1)], axis=1)


def _sample_cutout(draw: Draw, sizes: Sizes) -> Tensor:
    ch, cw = sizes.hole
    cy = draw.randint(0, sizes.height + (1 - ch % 2))
    cx = draw.randint(0, sizes.width + (1 - cw % 2))
    return ops.stack([cy, cx], axis=1)


def _sample_flip(draw: Draw, sizes: Sizes) -> Tensor:
    return draw.uniform(0.0, 1.0) < 0.5


def _sample_rotate90(draw: Draw, sizes: Sizes) -> Tensor:
    return draw.randint(0, 4)


def _flip(images: Tensor, flip: Tensor) -> Tensor:
    """Horizontal (left-right) flip of the samples where `flip` is True."""
    return ops.where(ops.reshape(flip, (-1, 1, 1, 1)), ops.flip(images, axis=2), images)


def _rotate90(images: Tensor, rotate90: Tensor) -> Tensor:
    """Counter-clockwise rotation by k * 90 degrees, k in {0, 1, 2, 3}, as `np.rot90`.

    rot90 by k = (transpose H/W if k is odd), then reverse H if k in {1, 2} and reverse
    W if k in {2, 3}: three cheap selects instead of four full rotations.
    """
    height, width = images.shape[1], images.shape[2]
    if height is not None and width is not None and height != width:
        raise ValueError(
            "The `rotate90` op needs square images (a 90-degree rotation changes the shape "
            f"otherwise). Received: images of shape {images.shape}. Remove `rotate90` from "
            "the policy or crop the images to a square."
        )
    k = ops.reshape(ops.cast(rotate90, "int32"), (-1, 1, 1, 1))
    images = ops.where(k % 2 == 1, ops.transpose(images, (0, 2, 1, 3)), images)
    images = ops.where((k == 1) | (k == 2), ops.flip(images, axis=1), images)
    return ops.where(k >= 2, ops.flip(images, axis=2), images)


# One row per op: name, kind, sample, apply, identity (and num_draws where not 1).
OPS = {
    op.name: op
    for op in (
        Op(
            "brightness",
            COLOR,
            _uniform(-0.5, 0.5),
            ColorAffine.brightness,
            _constant(0.0),
            in_image_units=True,
        ),
        Op("saturation", COLOR, _uniform(0.0, 2.0), ColorAffine.saturation, _constant(1.0)),
        Op("contrast", COLOR, _uniform(0.5, 1.5), ColorAffine.contrast, _constant(1.0)),
        Op(
            "translation",
            GEOMETRY,
            _sample_translation,
            Geometry.translation,
            _constant(0, "int32", (2,)),
            num_draws=2,
        ),
        Op("cutout", GEOMETRY, _sample_cutout, Geometry.cutout, None, num_draws=2),
        Op("flip", IMAGE, _sample_flip, _flip, _constant(False, "bool")),
        Op("rotate90", IMAGE, _sample_rotate90, _rotate90, _constant(0, "int32")),
    )
}

# Policy shorthands, expanded in order.
GROUPS = {"color": ("brightness", "saturation", "contrast")}
