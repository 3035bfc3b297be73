"""Sampling from a trained GAN: `generate` images, or `export_generator` as a SavedModel.

Both use the EMA generator (with its standing statistics, see `keras_models.gan.ema`)
when there is one, and draw from the model's sampling seed generator, a stream separate
from training's, so that sampling during training (validation, image grids in
callbacks) does not change what training draws.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import tensorflow as tf

from keras_models.conditioning import check_labels, random_labels
from keras_models.gan.validation import check_num_or_latents


class GeneratorExport:
    """`generate` and `export_generator` of `keras_models.GAN` (a mixin: it reads the
    GAN's `latent_dim`, `num_classes`, `sample_seed_generator` and its sampling
    generator)."""

    def generate(
        self, num_or_latents: int | Any, labels: Any | None = None, use_ema: bool = True
    ) -> tf.Tensor:
        """Generates images.

        Args:
            num_or_latents: number of images (latents drawn from the model's sampling
                seed generator) or a float (B, latent_dim) array of latents.
            labels: int (B,) class indices for a conditional GAN, one per image; None
                draws them uniformly.
            use_ema: use the EMA generator when there is one.

        Returns:
            float32 (B, H, W, C) images in [-1, 1].

        Raises:
            ValueError: for a number of images that is not an int >= 1, latents of
                another shape, labels given to an unconditional GAN, or labels that are
                not B class ids in `[0, num_classes)`.
        """
        # Every check before the draws: a rejected call leaves the sampling stream as it is.
        latents = check_num_or_latents(num_or_latents, self.latent_dim)
        num = latents if isinstance(latents, int) else latents.shape[0]
        if labels is not None:
            if self.num_classes is None:
                raise ValueError(
                    "`labels` are only accepted by a conditional GAN (num_classes set). "
                    f"Received: labels={labels!r}"
                )
            labels = check_labels(labels, self.num_classes, num=num)
        if isinstance(latents, int):
            latents = keras.random.normal((num, self.latent_dim), seed=self.sample_seed_generator)
        if self.num_classes is not None and labels is None:
            labels = random_labels(
                tf.shape(latents)[0], self.num_classes, seed=self.sample_seed_generator
            )
        images = self._call_generator(
            self._sampling_generator(use_ema), latents, labels, training=False
        )
        return tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)

    def export_generator(self, path: str | os.PathLike, use_ema: bool = True) -> None:
        """Writes the (EMA) generator as a TensorFlow SavedModel.

        The SavedModel needs neither Keras nor this package to run:

        ```python
        serve = tf.saved_model.load(path).signatures["serving_default"]
        images = serve(latents=z)["images"]      # conditional: serve(latents=z, labels=y)
        ```

        Args:
            path: output directory.
            use_ema: export the EMA generator when there is one.
        """
        network = self._sampling_generator(use_ema)
        signature = [tf.TensorSpec([None, self.latent_dim], tf.float32, name="latents")]
        if self.num_classes is not None:
            signature.append(tf.TensorSpec([None], tf.int32, name="labels"))

        @tf.function(input_signature=signature)
        def serve(latents, labels=None):
            images = self._call_generator(network, latents, labels, training=False)
            return {"images": tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)}

        module = tf.Module()
        module.generator = network
        module.generator_variables = list(network.variables)
        module.serve = serve
        tf.saved_model.save(module, path, signatures={"serving_default": serve})
