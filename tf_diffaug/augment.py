"""A validated DiffAugment policy and the functional entry point `diff_augment`."""

import dataclasses
from collections.abc import Sequence
from typing import TypeAlias

import keras
import numpy as np
from keras import ops

from tf_diffaug import backend, draws
from tf_diffaug.arguments import (
    call_probability,
    check_fraction,
    check_seed,
    check_value_range,
    is_float,
    rank,
)
from tf_diffaug.backend import Tensor
from tf_diffaug.color import ColorAffine
from tf_diffaug.geometry import Geometry, Sizes
from tf_diffaug.registry import COLOR, GEOMETRY, GROUPS, OPS

DEFAULT_POLICY = "color,translation,cutout"
DATA_FORMATS = ("channels_last", "channels_first")

PolicySpec: TypeAlias = str | Sequence[str] | None
"""A policy as users write it: comma-separated op names, a list of them, or None."""
ImagesLike: TypeAlias = Tensor | np.ndarray
"""A batch of float images: a tensor of the Keras backend, or a NumPy array."""
Transformation: TypeAlias = dict[str, Tensor]
"""Per-sample parameters keyed by op name (see `tf_diffaug.registry`)."""
Seed: TypeAlias = int | keras.random.SeedGenerator | None
"""None (Keras's global generator), an int, or a `keras.random.SeedGenerator`."""


def list_ops() -> list[str]:
    """Returns the op names accepted in a policy, in their canonical order.

    `"color"` is also accepted and expands to `brightness,saturation,contrast`.

    Returns:
        The op names, e.g. `["brightness", "saturation", "contrast", "translation", ...]`.
    """
    return list(OPS)


def parse_policy(policy: PolicySpec) -> tuple[str, ...]:
    """Turns a policy into the tuple of op names it applies, in order.

    Names are stripped and lower-cased, empty names are skipped, and the shorthand
    `"color"` expands to `brightness, saturation, contrast` in place:

    ```python
    tf_diffaug.parse_policy("color, Cutout")
    # ('brightness', 'saturation', 'contrast', 'cutout')
    ```

    Args:
        policy: comma-separated op names, a list or tuple of them (see `list_ops()`),
            or None (no op).

    Returns:
        The op names; empty for None or an empty string.

    Raises:
        ValueError: for a policy of another type, unknown names (the message lists the
            valid ones), or a name given twice (also through `"color"`).
    """
    if policy is None:
        return ()
    if not isinstance(policy, (str, list, tuple)):
        raise ValueError(
            "Expected `policy` as a comma-separated string or a list of op names, e.g. "
            f"'color,translation,cutout'. Received: policy={policy!r} (of type "
            f"{type(policy).__name__})"
        )
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    expanded: list[str] = []
    for name in (str(n).strip().lower() for n in names):
        if not name:
            continue
        if name in GROUPS:
            expanded.extend(GROUPS[name])
        elif name in OPS:
            expanded.append(name)
        else:
            valid = ", ".join([*GROUPS, *OPS])
            raise ValueError(
                f"Unknown DiffAugment op {name!r}. Valid ops are: {valid}. "
                f"Received: policy={policy!r}"
            )
    repeated = sorted({n for n in expanded if expanded.count(n) > 1})
    if repeated:
        raise ValueError(
            f"Each op may appear once in a policy; {', '.join(repeated)} appears more than "
            f"once (note that 'color' already contains brightness, saturation and contrast). "
            f"Received: policy={policy!r}"
        )
    return tuple(expanded)


_APPLIED_KEYS = tuple(f"{name}_applied" for name, op in OPS.items() if op.kind != COLOR)


@dataclasses.dataclass(frozen=True)
class Policy:
    """A parsed, validated DiffAugment policy.

    Attributes:
        ops: op names, applied in this order.
        probability: per-sample, per-op probability of applying each op.
        translation_ratio: maximum shift as a fraction of the side.
        cutout_ratio: cutout side as a fraction of the image side.
        data_format: "channels_last" (NHWC) or "channels_first" (NCHW).
        value_range: (low, high) of the images; the colour ops' parameters are in units
            of the paper's [-1, 1] and scale to it (see `create`).
    """

    ops: tuple[str, ...]
    probability: float = 1.0
    translation_ratio: float = 0.125
    cutout_ratio: float = 0.5
    data_format: str = "channels_last"
    value_range: tuple[float, float] = (-1.0, 1.0)

    @classmethod
    def create(
        cls,
        policy: PolicySpec = DEFAULT_POLICY,
        probability: float = 1.0,
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
        data_format: str = "channels_last",
        value_range: Sequence[float] = (-1.0, 1.0),
    ) -> "Policy":
        """Validates the arguments and parses `policy` (see `parse_policy`).

        Args:
            policy: op names, as `parse_policy` takes them.
            probability: in [0, 1].
            translation_ratio: in (0, 1].
            cutout_ratio: in (0, 1].
            data_format: one of `DATA_FORMATS`.
            value_range: (low, high), low < high: the range of the images. The paper's
                colour ops are defined on [-1, 1]; on another range brightness adds
                b * (high - low) / 2, the same change relative to the range, while
                saturation and contrast (scalings about a mean) and the zero padding
                and cutout of the geometric ops are unchanged.

        Returns:
            The `Policy`.

        Raises:
            ValueError: for an argument of the wrong type or out of range, an invalid
                policy, or a Keras backend that DiffAugment does not run on.
        """
        backend.check_supported()
        if data_format not in DATA_FORMATS:
            raise ValueError(
                f"`data_format` must be one of {DATA_FORMATS}. "
                f"Received: data_format={data_format!r}"
            )
        return cls(
            parse_policy(policy),
            # A tensor here would be read once: an adaptive one must be given per call.
            check_fraction(
                "probability",
                probability,
                hint="; a tensor or variable is given per call instead, as "
                "`layer(images, training=True, probability=p)`",
            ),
            check_fraction("translation_ratio", translation_ratio, allow_zero=False),
            check_fraction("cutout_ratio", cutout_ratio, allow_zero=False),
            data_format,
            check_value_range(value_range),
        )

    def check_images(self, images: ImagesLike) -> Tensor:
        """Validates rank and dtype; returns the images as a tensor of the backend.

        Raises:
            ValueError: for images that are not rank 4 or not floating point.
        """
        images = ops.convert_to_tensor(images)
        if rank(images) != 4:
            raise ValueError(
                "DiffAugment expects a batch of images of rank 4 "
                f"({'NCHW' if self.data_format == 'channels_first' else 'NHWC'}); add a batch "
                f"axis with `images[None]` for a single image. Received: shape="
                f"{tuple(images.shape) if rank(images) is not None else None}"
            )
        if not is_float(images):
            raise ValueError(
                "DiffAugment expects float images (float16, bfloat16, float32) scaled to "
                "[-1, 1] (or to its `value_range`); convert with "
                "`keras.ops.cast(images, 'float32') / 127.5 - 1`. "
                f"Received: dtype={keras.backend.standardize_dtype(images.dtype)}"
            )
        return images

    def check_transformation(self, images: Tensor, params: Transformation) -> Transformation:
        """Validates a transformation dict for `images`; returns its values as tensors.

        Every op of the policy needs an entry. Entries for other ops are ignored, so
        that one dict can serve several policies, but a key that names no op's
        parameters (a typo, or `"<op>_applied"` for a color op, which is gated by its
        identity parameters instead) is an error rather than silently unused. Every
        value must have the images' batch size as its leading dimension: checked now
        where both are static (always on JAX and PyTorch), else when the TensorFlow graph
        runs (not under XLA, which compiles assertions to nothing).

        Args:
            images: the batch, as `check_images` returns it.
            params: the transformation dict.

        Returns:
            `params` with tensor values, which wait for the run-time checks if any.

        Raises:
            ValueError: for a missing or unknown key, a value without a batch axis, or
                one drawn for another (static) batch size.
        """
        missing = [name for name in self.ops if name not in params]
        unknown = sorted(set(params) - set(OPS) - set(_APPLIED_KEYS))
        if missing or unknown:
            problems = [f"is missing parameters for {missing}"] if missing else []
            problems += [f"has unknown keys {unknown}"] if unknown else []
            raise ValueError(
                f"The transformation {' and '.join(problems)}: the policy {self.ops} "
                "needs one entry per op, and takes optional `<op>_applied` entries for "
                f"{', '.join(key.removesuffix('_applied') for key in _APPLIED_KEYS)}. Draw "
                "it with `get_random_transformation(images)`. "
                f"Received keys: {sorted(params)}"
            )
        batch = images.shape[0]
        checked: Transformation = {}
        unchecked = []
        for key, value in params.items():
            value = ops.convert_to_tensor(value)
            if rank(value) == 0:
                raise ValueError(
                    "Each parameter of a transformation needs a leading batch axis, with "
                    f"one value per sample. Received: `{key}` of shape {tuple(value.shape)}"
                )
            drawn = None if rank(value) is None else value.shape[0]
            if batch is None or drawn is None:
                unchecked.append(key)
            elif drawn != batch:
                raise ValueError(
                    f"The transformation parameters were drawn for a batch of {drawn} "
                    f"but the images have batch size {batch}; draw them with "
                    f"`get_random_transformation(images)`. Received: `{key}` of shape "
                    f"{tuple(value.shape)}"
                )
            checked[key] = value
        return backend.implementation().checked_batch(checked, images, unchecked)

    def _to_nhwc(self, images: Tensor) -> Tensor:
        if self.data_format == "channels_first":
            return ops.transpose(images, (0, 2, 3, 1))
        return images

    def sample(
        self,
        images: ImagesLike,
        base_seed: object,
        probability: float | Tensor | None = None,
    ) -> Transformation:
        """Draws the transformation dict for `images` from a seed.

        Args:
            images: the batch (only its shape is used).
            base_seed: what the backend's random ops are keyed by, as `base_seed`
                returns it.
            probability: None (the policy's own), a float in [0, 1], or a scalar
                (shape ()) float tensor or variable (e.g. an adaptive strength; always
                gated, since its value is only known when computed, and checked to be
                in [0, 1] then in a TensorFlow graph, except under XLA).

        Returns:
            The parameters keyed by op name (see `tf_diffaug.registry`), plus a bool
            `"<name>_applied"` entry for a gated op without identity parameters.

        Raises:
            ValueError: for invalid images, or a probability of the wrong type, shape
                or dtype, or a Python one out of range.
            tf.errors.InvalidArgumentError: when a TensorFlow graph runs, for a tensor
                probability out of [0, 1] (not under XLA).
        """
        images = self._to_nhwc(self.check_images(images))
        probability, gated = call_probability(
            self.probability if probability is None else probability
        )
        batch = ops.shape(images)[0]
        sizes = Sizes.of(images, self.translation_ratio, self.cutout_ratio)
        count = sum(OPS[name].num_draws + gated for name in self.ops)
        draw = draws.Draw(base_seed, batch, count)
        params: Transformation = {}
        for name in self.ops:
            op = OPS[name]
            values = op.sample(draw, sizes)
            if gated:
                applied = draw.uniform(0.0, 1.0) < probability
                if op.identity is None:
                    params[f"{name}_applied"] = applied
                else:
                    mask = ops.reshape(applied, [-1] + [1] * (len(values.shape) - 1))
                    values = ops.where(mask, values, op.identity(batch))
            params[name] = values
        return params

    def apply(self, images: ImagesLike, params: Transformation) -> Tensor:
        """Applies the ops with the given parameters; deterministic and differentiable.

        Args:
            images: the batch, in the policy's data format.
            params: a transformation dict, as `sample` returns it.

        Returns:
            The augmented images, with the dtype and shape of `images`.

        Raises:
            ValueError: for invalid images or parameters (see `check_transformation`).
        """
        images = self.check_images(images)
        params = self.check_transformation(images, params)
        if not self.ops:
            return images
        dtype = keras.backend.standardize_dtype(images.dtype)
        # Half-precision inputs are augmented in float32 (means and masks stay exact),
        # then cast back so that output dtype = input dtype.
        x = self._to_nhwc(ops.cast(images, "float64" if dtype == "float64" else "float32"))
        transform = backend.implementation().transform
        # Parameters in units of [-1, 1] (brightness) scale to the images' range.
        unit = (self.value_range[1] - self.value_range[0]) / 2.0
        sizes = Sizes.of(x, self.translation_ratio, self.cutout_ratio)
        # Runs of color ops and of translation/cutout ops are composed as they come and
        # applied together by `transform`: a color run followed by a geometry run is one
        # pass forward and one backward.
        color: ColorAffine | None = None
        geometry: Geometry | None = None
        for name in self.ops:
            op = OPS[name]
            value, applied = params[name], params.get(f"{name}_applied")
            if op.kind == COLOR:  # gated by identity parameters, never by `applied`
                if geometry is not None:  # color after a shift sees the zero padding
                    x, color, geometry = transform(x, color, geometry), None, None
                value = ops.cast(value, "float32")
                if op.in_image_units and unit != 1.0:
                    value = value * unit
                color = op.apply(color or ColorAffine.identity(value), value)
            elif op.kind == GEOMETRY:
                geometry = op.apply(geometry or Geometry(sizes), value, applied)
            else:
                x, color, geometry = transform(x, color, geometry), None, None
                augmented = op.apply(x, value)
                if applied is not None:
                    augmented = ops.where(ops.reshape(applied, (-1, 1, 1, 1)), augmented, x)
                x = augmented
        x = transform(x, color, geometry)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 3, 1, 2))
        return ops.cast(x, dtype)


def base_seed(seed: Seed) -> object:
    """What the backend's random ops are keyed by, from None, an int or a
    `keras.random.SeedGenerator`.

    None draws from Keras's global seed generator (seeded by `keras.utils.set_random_seed`).
    On TensorFlow this is a (2,) int tensor, and inside a replica of a `tf.distribute`
    strategy the replica id is folded in, so that replicas augment their shards
    independently instead of repeating each other's draws. On JAX and PyTorch an int
    seed is taken modulo 2**32, as Keras's random ops take it.

    Raises:
        ValueError: for a seed of another type, or an int outside int64.
    """
    if not (seed is None or isinstance(seed, keras.random.SeedGenerator)):
        seed = check_seed(seed, "None, a `keras.random.SeedGenerator` or an int")
    return backend.implementation().base_seed(seed)


def diff_augment(
    images: ImagesLike,
    policy: PolicySpec = DEFAULT_POLICY,
    *,
    probability: float = 1.0,
    translation_ratio: float = 0.125,
    cutout_ratio: float = 0.5,
    data_format: str = "channels_last",
    value_range: Sequence[float] = (-1.0, 1.0),
    seed: Seed = None,
) -> Tensor:
    """Applies DiffAugment to a batch of images.

    The same call applies to real and generated images alike; it is differentiable with
    respect to `images`, so gradients of D(T(G(z))) reach G.

    Args:
        images: float tensor (B, H, W, C) (or (B, C, H, W) with `channels_first`) of
            the Keras backend, or a NumPy array; values nominally in `value_range`.
        policy: comma-separated string or list of op names from `list_ops()`, or
            `"color"`; applied in the order given. Empty means identity.
        probability: probability of applying each op to each sample.
        translation_ratio: maximum translation as a fraction of the side (paper: 1/8).
        cutout_ratio: side of the cutout square as a fraction of the side (paper: 1/2).
        data_format: "channels_last" or "channels_first".
        value_range: (low, high) of the images (see `Policy.create`): the paper's
            [-1, 1] by default; e.g. (0, 1) halves brightness's offset.
        seed: None (Keras's global generator), an int (the same result on every call),
            or a `keras.random.SeedGenerator` (a reproducible sequence).

    Returns:
        The augmented images, with the dtype and shape of `images`.

    Raises:
        ValueError: for an unknown op, images that are not rank 4 or not float, or
            ratios/probability/value_range out of range.
    """
    augmentation = Policy.create(
        policy, probability, translation_ratio, cutout_ratio, data_format, value_range
    )
    images = augmentation.check_images(images)
    params = augmentation.sample(images, base_seed(seed))
    return augmentation.apply(images, params)
