"""`DiffAugment`: the paper's augmentation as a Keras 3 preprocessing-style layer."""

from collections.abc import Sequence
from typing import Any

import keras

from tf_diffaug.arguments import check_seed
from tf_diffaug.augment import (
    DEFAULT_POLICY,
    ImagesLike,
    Policy,
    PolicySpec,
    Seed,
    Transformation,
    base_seed,
)
from tf_diffaug.backend import Tensor


@keras.saving.register_keras_serializable(package="tf_diffaug")
class DiffAugment(keras.layers.Layer):
    """Differentiable Augmentation (Zhao et al., 2020) as a Keras layer.

    Apply the same layer to real and generated images, in the discriminator step and in
    the generator step; gradients flow through it to the generator.

    ```python
    augment = tf_diffaug.DiffAugment("color,translation,cutout")
    real_logits = discriminator(augment(real_images, training=True))
    fake_logits = discriminator(augment(generator(z), training=True))
    ```

    Like Keras's image preprocessing layers it splits sampling from applying:
    `get_random_transformation` draws a dict of per-sample parameters (see
    `tf_diffaug.registry` for the keys and ranges) and `transform_images` applies a given
    dict deterministically, which is how tests and users inject parameters.

    With `probability < 1`, skipped samples get identity parameters (brightness 0,
    saturation 1, contrast 1, translation (0, 0), flip False, rotate90 0); cutout, which
    has none, records skipped samples in a bool `"cutout_applied"` entry.

    The probability can also be given per call, `augment(images, training=True,
    probability=p)`, as a Python or NumPy float in [0, 1] or as a scalar (shape ()) float
    tensor or variable, one probability for every sample. This is how `keras_models.GAN`
    drives it with an adaptive strength (`keras_models.AdaptiveStrength`). A tensor is
    always gated (its value is only known when the graph runs), while the default
    `probability=1.0` adds no gating op at all. Any other type, shape or dtype is a
    `ValueError` at call (trace) time, and a tensor's value outside [0, 1] (NaN included)
    an `InvalidArgumentError` when the graph runs; except under XLA (`jit_compile=True`,
    which Keras's `jit_compile="auto"` picks on a GPU), which compiles assertions to
    nothing: there the range is not checked, and a value below 0 or above 1 acts as 0 or
    1 (NaN as 0).

    The layer runs on the TensorFlow, JAX and PyTorch Keras backends with the same
    semantics (exact to float rounding for the same parameters); it is differentiable on
    each, and `supports_jit`: under `jax.jit` its draws advance its seed generator
    statelessly, as Keras's random layers do. On JAX and PyTorch a tensor probability's
    range is not checked, as under XLA.

    Images in another range than the paper's [-1, 1], e.g. [0, 1], take `value_range`,
    as Keras's colour layers do: brightness's offset scales with the range, while
    translation's padding and cutout still fill with 0 (black in [0, 1], mid-grey in
    [-1, 1]).

    Unlike Keras's preprocessing layers this layer does not cast its inputs to the
    layer's compute dtype: the output dtype is always the input dtype, so it can sit
    between a mixed-precision generator and discriminator.

    Args:
        policy: comma-separated op names or a list (see `tf_diffaug.list_ops()`);
            `"color"` expands to brightness, saturation, contrast.
        probability: per-sample, per-op probability of applying each op, in [0, 1].
        translation_ratio: maximum shift as a fraction of each side, in (0, 1].
        cutout_ratio: cutout side as a fraction of each side, in (0, 1].
        data_format: "channels_last" or "channels_first"; None uses
            `keras.config.image_data_format()`.
        value_range: (low, high), the range of the images; (-1, 1) is the paper's.
        seed: int (in int64) for a reproducible sequence of draws, or None.
        **kwargs: base `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(
        self,
        policy: PolicySpec = DEFAULT_POLICY,
        probability: float = 1.0,
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
        data_format: str | None = None,
        seed: int | None = None,
        value_range: Sequence[float] = (-1.0, 1.0),
        **kwargs: Any,
    ) -> None:
        # autocast=False: inputs keep their dtype (no cast to compute_dtype).
        super().__init__(autocast=False, **kwargs)
        self.policy = Policy.create(
            policy,
            probability,
            translation_ratio,
            cutout_ratio,
            keras.config.image_data_format() if data_format is None else data_format,
            value_range,
        )
        # NumPy integers (e.g. from a config array) become ints: `get_config` stays JSON.
        self.seed = None if seed is None else check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="diffaugment_seed")
        self.supports_jit = True
        # Its only state, the seed generator, exists now: nothing to build (so that
        # `stateless_call` works from the first call, e.g. under `jax.jit`).
        self.built = True

    @property
    def probability(self) -> float:
        """The default per-sample, per-op probability, in [0, 1]."""
        return self.policy.probability

    def get_random_transformation(
        self,
        images: ImagesLike,
        training: bool = True,
        seed: Seed = None,
        probability: float | Tensor | None = None,
    ) -> Transformation | None:
        """Draws per-sample parameters for `images`.

        Args:
            images: the batch to be augmented (only its shape is used).
            training: None is returned when False (the identity).
            seed: None (the layer's own generator), an int or a `SeedGenerator`.
            probability: None (the layer's `probability`), or a per-call probability
                as the class docstring describes: a float in [0, 1], or a scalar float
                tensor or variable.

        Returns:
            A dict of tensors keyed by op name, or None when not training.
        """
        if not training:
            return None
        seed = base_seed(self.seed_generator if seed is None else seed)
        return self.policy.sample(images, seed, probability)

    def transform_images(
        self, images: ImagesLike, transformation: Transformation | None, training: bool = True
    ) -> Tensor:
        """Applies `transformation` (from `get_random_transformation`) to `images`.

        Args:
            images: the batch.
            transformation: the parameters, or None for the identity.
            training: the identity when False.

        Returns:
            The augmented images, with the dtype and shape of `images`.
        """
        if not training or transformation is None:
            return images
        return self.policy.apply(images, transformation)

    def call(
        self,
        images: ImagesLike,
        training: bool = True,
        probability: float | Tensor | None = None,
    ) -> Tensor:
        if not training:
            return images
        transformation = self.get_random_transformation(images, probability=probability)
        return self.transform_images(images, transformation)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def compute_output_spec(
        self,
        images: keras.KerasTensor,
        training: bool = True,
        probability: float | Tensor | None = None,
    ) -> keras.KerasTensor:
        return keras.KerasTensor(images.shape, dtype=images.dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            policy=",".join(self.policy.ops),
            probability=self.policy.probability,
            translation_ratio=self.policy.translation_ratio,
            cutout_ratio=self.policy.cutout_ratio,
            data_format=self.policy.data_format,
            seed=self.seed,
            value_range=list(self.policy.value_range),
        )
        return config
