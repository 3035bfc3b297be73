"""The GAN's EMA generator: its copy, its update after each G step, and its standing
batch-norm statistics.

`generate` and `export_generator` sample from an exponential moving average of the
generator's weights (`ema_decay`). Its non-trainable weights (spectral-norm vectors,
batch-norm statistics) are copied from the generator, as StyleGAN2 copies buffers; the
batch-norm statistics are then replaced, before sampling, by the EMA generator's own
average batch statistics (BigGAN-PyTorch's "standing statistics"), so that an image
sampled alone looks like one sampled in a batch.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from keras_models.conditioning import random_labels
from keras_models.gan import _tf_private
from keras_models.gan.distribution import assign_on_replicas

# Latents per batch of the standing statistics.
STANDING_STATISTICS_BATCH = 64


class EMAGenerator:
    """The EMA part of `keras_models.GAN` (a mixin: it reads the GAN's `generator`,
    `ema_generator`, `ema_decay`, `ema_start_step`, `train_steps`, `latent_dim`,
    `num_classes` and `standing_statistics_batches`)."""

    def _clone_generator(self) -> keras.Model:
        """A copy of the generator whose weights are non-trainable EMA variables."""
        ema = keras.models.clone_model(self.generator)
        self._call_generator(
            ema, tf.zeros((1, self.latent_dim)), tf.zeros((1,), tf.int32), training=False
        )
        if [w.shape for w in ema.weights] != [w.shape for w in self.generator.weights]:
            raise ValueError(
                "`keras.models.clone_model(generator)` did not reproduce the generator's "
                "weights; register the generator class with "
                "`keras.saving.register_keras_serializable` and give it a complete "
                "`get_config`, or pass `ema_decay=None`."
            )
        for target, source in zip(ema.weights, self.generator.weights, strict=True):
            target.assign(source)
        ema.trainable = False
        return ema

    def _update_ema(self, finite: tf.Tensor) -> None:
        """Moves the EMA copy toward the generator, unless the G update was skipped
        (`finite` false). Before `ema_start_step` the copy just follows the generator."""
        step = tf.cast(self.train_steps, tf.float32)
        decay = tf.where(step < self.ema_start_step, 0.0, self.ema_decay)
        assignments = []
        for average, weight in zip(self.ema_generator.weights, self.generator.weights, strict=True):
            if weight.trainable:
                value = weight + tf.cast(decay, weight.dtype) * (average - weight)
            else:  # spectral-norm vectors, batch-norm statistics: copied, as StyleGAN2
                # copies buffers (sampling replaces the latter by standing statistics)
                value = tf.identity(weight)
            assignments.append((average, tf.where(finite, value, average)))
        assign_on_replicas(assignments)

    def _sampling_generator(self, use_ema: bool) -> keras.Model:
        """The network that samples: the EMA generator (with standing statistics up to
        date) when `use_ema` and there is one, else the generator."""
        if not use_ema or self.ema_generator is None:
            return self.generator
        if self._standing_statistics_step != self._step():
            self.update_standing_statistics()
        return self.ema_generator

    def _step(self) -> int:
        """The step counter as a Python int (also for a distributed variable)."""
        return int(keras.ops.convert_to_numpy(self.train_steps))

    def update_standing_statistics(self) -> None:
        """Gives the EMA generator batch-norm statistics of its own.

        The moving statistics of the EMA generator would otherwise be those of the
        trained generator, whose weights differ. Each batch-norm layer's moving mean and
        variance become the average of the EMA generator's own batch statistics over
        `standing_statistics_batches` batches of 64 latents (and uniform labels) drawn
        from fixed seeds, so the result is repeatable and no random stream of the model
        moves. `generate` and `export_generator` call it whenever `train_steps` has
        changed since the last call; a generator without batch normalization is left
        as it is.
        """
        self._standing_statistics_step = self._step()
        layers = [
            layer
            for layer in _tf_private.flatten_layers(self.ema_generator)
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        if not layers:
            return
        momenta = [layer.momentum for layer in layers]
        moments = [v for layer in layers for v in (layer.moving_mean, layer.moving_variance)]
        totals = [np.zeros(v.shape) for v in moments]
        trainable = [layer.trainable for layer in layers]
        batch = STANDING_STATISTICS_BATCH
        try:
            for layer in layers:  # moving statistics := those of the batch just seen
                layer.momentum = 0.0
                layer.trainable = True  # a frozen BatchNormalization never updates them
            for i in range(self.standing_statistics_batches):
                latents = keras.random.normal((batch, self.latent_dim), seed=i)
                labels = None
                if self.num_classes is not None:
                    labels = random_labels(batch, self.num_classes, seed=i)
                self._call_generator(self.ema_generator, latents, labels, training=True)
                for total, value in zip(totals, moments, strict=True):
                    total += np.asarray(value, np.float64)
        finally:
            for layer, momentum, was in zip(layers, momenta, trainable, strict=True):
                layer.momentum, layer.trainable = momentum, was
        for variable, total in zip(moments, totals, strict=True):
            variable.assign(total / self.standing_statistics_batches)
