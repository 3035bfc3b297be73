"""Checks of what a `GAN` is built from and given, each failure a `ValueError` saying
what was expected and what was received, before any work where the input allows: its
constructor arguments, the discriminator's interface (it takes the generator's images
and returns one logit per image), `fit`'s input (batches that the D steps split, reals
in [-1, 1]: a warning) and `generate`'s number of samples or latents. Labels are checked
by `keras_models.conditioning.check_labels`."""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Collection, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

# How far real images may stray beyond [-1, 1] without a warning: resampling (bicubic,
# Lanczos) overshoots a little; [0, 255] or standardised images go far beyond.
RANGE_TOLERANCE = 0.5


def is_int(value: Any) -> bool:
    """Whether `value` is an integer (Python or NumPy), and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_arguments(
    *,
    latent_dim: int,
    augment_mode: str,
    augment_modes: Collection[str],
    r1_inputs: str,
    fake_labels: str,
    r1_interval: int,
    d_steps_per_g_step: int,
    standing_statistics_batches: int,
    ema_decay: float | None,
) -> None:
    """Raises `ValueError` for a `GAN` argument outside its valid values
    (`augment_modes`: the modes the model routes, `AUGMENTED_ROLES`)."""
    for name, value, valid in (
        ("augment_mode", augment_mode, augment_modes),
        ("r1_inputs", r1_inputs, ("augmented", "reals")),
        ("fake_labels", fake_labels, ("random", "reals")),
    ):
        if value not in valid:
            raise ValueError(f"`{name}` must be one of {sorted(valid)}. Received: {name}={value!r}")
    for name, value in (
        ("latent_dim", latent_dim),
        ("r1_interval", r1_interval),
        ("d_steps_per_g_step", d_steps_per_g_step),
        ("standing_statistics_batches", standing_statistics_batches),
    ):
        if not is_int(value) or value < 1:  # int(2.5) or int(True) would pass silently
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
        raise ValueError(f"`ema_decay` must be in [0, 1) or None. Received: {ema_decay}")


class DiscriminatorOutputError(ValueError):
    """The discriminator's output is not one logit per image (`check_logits`); raised
    as it is by `discriminator_interface_checked`, since it names its cause."""


def check_logits(logits: Any, images: tf.Tensor) -> None:
    """Raises `DiscriminatorOutputError` (a `ValueError`) for a discriminator output
    other than one logit per image, (B, 1) or (B,), on a batch of `images`, from the
    static shapes: when traced, and at construction, which calls the discriminator
    first."""
    expected = "Expected the discriminator to return logits of shape (B, 1) or (B,), one per image"
    if not hasattr(logits, "shape"):  # e.g. a list, which would be stacked into one tensor
        raise DiscriminatorOutputError(f"{expected}. Received: a {type(logits).__name__}.")
    shape = tf.TensorShape(logits.shape)
    if shape.rank is None:
        return  # unknown when traced: reshaped to (B,) when run
    one_per_image = shape.rank == 1 or (shape.rank == 2 and shape[1] == 1)
    rows = shape[0] if shape.rank else None
    miscounted = None not in (rows, images.shape[0]) and rows != images.shape[0]
    if not one_per_image or miscounted:
        raise DiscriminatorOutputError(
            f"{expected}. Received: logits of shape {tuple(shape)} on images of shape "
            f"{tuple(images.shape)}."
        )


@contextlib.contextmanager
def discriminator_interface_checked(images: tf.Tensor) -> Iterator[None]:
    """Turns a failure of the discriminator on the generator's `images` (inside the
    block) into one `ValueError` naming the image shape and the original cause, which
    Keras wraps in errors of its own."""
    try:
        yield
    except DiscriminatorOutputError:
        raise
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
        cause = error
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        first_line = str(cause).strip().splitlines()[0]
        raise ValueError(
            "Expected the discriminator to take the generator's images. The generator "
            f"makes images of shape {tuple(images.shape[1:])}; calling the discriminator "
            f"on them failed: {first_line}"
        ) from error


def batch_split_message(parts: int, received: str) -> str:
    """The message of a dataset batch that `parts` (`d_steps_per_g_step`) D steps cannot
    split, ending with `received`."""
    return (
        f"Expected a batch divisible by d_steps_per_g_step={parts} (each D step takes its "
        f"part): batch the dataset by batch_size * {parts} with drop_remainder=True. "
        f"Received: {received}"
    )


def check_dataset_batches(x: Any, parts: int) -> None:
    """Raises `ValueError`, before `fit` runs a step, for a `tf.data.Dataset` whose
    batches `parts` (`d_steps_per_g_step`) D steps cannot split.

    A batch that does not split fails only when it is reached (a last partial batch:
    after every step before it has trained), so a dataset must declare a batch size that
    splits: static (`drop_remainder=True`) and divisible by `parts`. Other inputs
    (NumPy arrays, generators, distributed datasets) declare none; `batches.split_batch`
    checks their batches when traced if static, else when run.
    """
    if parts == 1 or not isinstance(x, tf.data.Dataset):
        return
    spec = x.element_spec
    images = spec[0] if isinstance(spec, (tuple, list)) else spec
    if not isinstance(images, tf.TensorSpec) or not images.shape.rank:
        return  # not a batch of images: `fit` names what is wrong with it
    batch = images.shape[0]
    if batch is None:
        raise ValueError(
            batch_split_message(
                parts,
                "a dataset whose batch size is unknown (None): batched without "
                "drop_remainder=True, its last batch may be partial.",
            )
        )
    if batch % parts:
        raise ValueError(batch_split_message(parts, f"a batch of {batch} images."))


def check_num_or_latents(num_or_latents: Any, latent_dim: int) -> int | tf.Tensor:
    """`GAN.generate`'s first argument, checked: a number of images, or latents.

    Returns:
        The number of images (an int >= 1), or the latents as float32 (B, latent_dim).

    Raises:
        ValueError: for anything else (a count < 1, a float, a bool, a string, latents of
            another shape).
    """
    if is_int(num_or_latents) and num_or_latents >= 1:
        return int(num_or_latents)
    if isinstance(num_or_latents, (numbers.Number, str, bytes)):
        raise ValueError(
            f"Expected num_samples to be an int >= 1, or latents of shape (B, latent_dim="
            f"{latent_dim}). Received: {num_or_latents!r} of type "
            f"{type(num_or_latents).__name__}."
        )
    latents = tf.convert_to_tensor(num_or_latents, tf.float32)
    if latents.shape.rank != 2 or latents.shape[1] not in (None, latent_dim):
        raise ValueError(
            f"Expected latents of shape (B, latent_dim={latent_dim}). Received: latents of "
            f"shape {tuple(latents.shape)}."
        )
    return latents


def check_reals_range(x: Any, batch_size: int | None = None) -> Any:
    """`fit`'s input `x`, made to warn (`UserWarning`) when its first batch is clearly not
    in [-1, 1], the range of the generator's images: beyond it by more than
    `RANGE_TOLERANCE` (as [0, 255]), or with no negative value (as [0, 1]). D would then
    tell reals from fakes by their range alone, and training goes on regardless.

    NumPy images are checked at once. A `tf.data.Dataset` is returned with its first
    element checked as training reads it: iterating it beforehand to peek would advance
    its shuffle's seed and change the batches training sees (and exact resume with
    them). Other inputs (a distributed dataset, a generator) are returned unchecked.
    """
    first = lambda data: data[0] if isinstance(data, (tuple, list)) and data else data
    if isinstance(x, tf.data.Dataset):

        def checked(index, element):
            def warn(images):
                _warn_if_out_of_range(images.numpy())
                return True

            done = tf.cond(
                index == 0,
                lambda: tf.py_function(warn, [first(element)], tf.bool),
                lambda: tf.constant(True),
            )
            with tf.control_dependencies([done]):
                return tf.nest.map_structure(tf.identity, element)

        return x.enumerate().map(checked)
    images = first(x)
    if isinstance(images, np.ndarray):
        _warn_if_out_of_range(images[: batch_size or 32])
    return x


def _warn_if_out_of_range(images: np.ndarray) -> None:
    if images.dtype.kind not in "fiu":
        return
    images = images[np.isfinite(images)]
    if not images.size:
        return
    low, high = float(images.min()), float(images.max())
    if -1 - RANGE_TOLERANCE <= low < 0 and high <= 1 + RANGE_TOLERANCE:
        return
    looks_like = ""
    if low >= 0:
        looks_like = (
            " (it looks like [0, 255])" if high > 1 + RANGE_TOLERANCE else " (it looks like [0, 1])"
        )
    warnings.warn(
        "Expected real images in [-1, 1], the range of the generator's images (tanh). "
        f"Received: a first batch with min={low:g}, max={high:g}{looks_like}. The "
        "discriminator can tell reals from fakes by their range alone: scale the reals, "
        "e.g. `images / 127.5 - 1` from [0, 255] or `images * 2 - 1` from [0, 1].",
        UserWarning,
        stacklevel=2,
    )


class CheckedFit:
    """A mixin for `GAN`: `fit` checks its input first (`check_dataset_batches`, and
    `check_reals_range` on the model's first `fit` from step 0).

    It relies on the model's `d_steps_per_g_step` and `_step()`, and comes before
    `keras.Model` in the bases.
    """

    _reals_checked = False  # whether `fit` has looked at the range of the reals

    def fit(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, *args: Any, **kwargs: Any
    ) -> keras.callbacks.History:
        """`keras.Model.fit`, after the checks of its input that need no step: a
        `tf.data.Dataset` needs a static batch size that the D steps split (batch it with
        `drop_remainder=True`), and reals clearly outside [-1, 1] are warned about (on
        the first batch of the model's first `fit` from step 0).

        Raises:
            ValueError: for a dataset whose batches the D steps cannot split.
        """
        check_dataset_batches(x, self.d_steps_per_g_step)  # type: ignore[attr-defined]
        if not self._reals_checked:
            # Once, from step 0: a resumed run was checked when it started.
            self._reals_checked = True
            if self._step() == 0:  # type: ignore[attr-defined]
                x = check_reals_range(x, batch_size)
        return super().fit(x, y, batch_size, *args, **kwargs)  # type: ignore[misc]
