"""Path-length regularisation for the StyleGAN2 generator (Karras et al., 2020, sec. 3.2).

For w ~ mapping(z) and y ~ N(0, I) / sqrt(H W), the path length is
`a = || J_w^T y ||_2` (the norm of the gradient of `sum(G(w) * y)` with respect to w,
taken as sqrt of the mean over layers of the squared norm over w features). The penalty
`(a - mean_a)^2`, with `mean_a` an exponential moving average of `a`, encourages a fixed
size step in w to give a fixed size change in the image.

`PathLengthRegularizer` plugs into `keras_models.GAN(..., g_regularizer=...)`: the GAN
calls it inside the G-step gradient tape as `regularizer(gan, latents, labels, images)`
and adds the returned per-sample values to the G loss before dividing by the global
batch. Lazy regularisation is handled here, by reading `gan.train_steps`: every
`interval` steps the penalty is computed on the first `1 / batch_shrink` of the latents
and scaled so that the batch mean is `interval * weight * mean(penalty)` (StyleGAN2:
interval 4, batch_shrink 2, weight 2); other steps return zeros. Its moving average is a
non-trainable variable, averaged across replicas; as a `keras.layers.Layer` attribute of
the GAN it is tracked and checkpointed with it. Custom loops can call `penalty`.
"""

from typing import Any

import keras
import tensorflow as tf

from keras_models.conditioning import pack


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class PathLengthRegularizer(keras.layers.Layer):
    """Lazy path-length regulariser: the moving average and the weighted penalty.

    ```python
    gan = keras_models.GAN(g, d, latent_dim=512, loss="non_saturating", r1_gamma=10,
                           r1_interval=16, g_regularizer=PathLengthRegularizer())
    ```

    Unlike other layers it is not called on tensors: `__call__` is the GAN's hook
    signature `(gan, latents, labels, images) -> (B,)` (`images`, the G step's fakes, are
    not used: the penalty needs its own forward pass from w).

    Args:
        weight: penalty weight (2.0 in StyleGAN2 config F).
        decay: moving-average rate of the mean path length (0.01).
        interval: compute it every `interval` G steps, scaled by `interval` (4).
        batch_shrink: compute it on `batch / batch_shrink` samples (2).
        seed: int for a reproducible projection noise sequence, or None.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        weight: float = 2.0,
        decay: float = 0.01,
        interval: int = 4,
        batch_shrink: int = 2,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.weight = float(weight)
        self.decay = float(decay)
        self.interval = int(interval)
        self.batch_shrink = int(batch_shrink)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="path_length_seed")
        self.mean_length = self.add_weight(
            name="mean_length",
            shape=(),
            initializer="zeros",
            trainable=False,
            aggregation="mean",
        )
        self.built = True

    def penalty(
        self, generator: keras.Model, inputs: tf.Tensor | list[tf.Tensor], training: bool = True
    ) -> tf.Tensor:
        """Per-sample weighted penalty `weight * (a - mean_a)^2`, float32 (B,).

        Updates the moving average `mean_a`. Call inside the G gradient tape: the
        penalty's gradient reaches the generator weights by double back-propagation.

        Args:
            generator: a `keras_models.stylegan2.Generator` (any model with
                `styles(inputs, training)` -> ws (B, L, w_dim) and `synthesis(ws)`).
            inputs: latents (B, latent_dim), or `[latents, labels]` when conditional.
            training: passed to the generator (style mixing, as in StyleGAN2).

        Returns:
            The penalty, float32 (B,).
        """
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            ws = generator.styles(inputs, training=training)
            tape.watch(ws)
            images = generator.synthesis(ws, training=training)
            shape = tf.shape(images)
            scale = tf.math.rsqrt(tf.cast(shape[1] * shape[2], images.dtype))
            noise = keras.random.normal(shape, dtype=images.dtype, seed=self.seed_generator)
            projected = tf.reduce_sum(images * noise * scale)
        gradients = tf.cast(tape.gradient(projected, ws), tf.float32)
        lengths = tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(gradients), axis=2), axis=1))
        # The average is a statistic, not a path for gradients (as in the reference).
        mean = tf.stop_gradient(
            self.mean_length + self.decay * (tf.reduce_mean(lengths) - self.mean_length)
        )
        self.mean_length.assign(mean)
        return self.weight * tf.square(lengths - mean)

    def __call__(
        self,
        gan: keras.Model,
        latents: tf.Tensor,
        labels: tf.Tensor | None = None,
        images: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Per-sample G-loss term for `keras_models.GAN`'s `g_regularizer` hook.

        Args:
            gan: the `keras_models.GAN` training the generator (its `generator` and
                `train_steps`).
            latents: the G step's latents (B, latent_dim).
            labels: their int labels (B,), or None when unconditional.
            images: the G step's fakes (unused).

        Returns:
            float32 (B,): the penalty of the first `B / batch_shrink` samples times
            `interval * batch_shrink` on the steps it is due, zeros otherwise.
        """
        batch = tf.shape(latents)[0]
        part = tf.maximum(batch // self.batch_shrink, 1)

        def regularize():
            inputs = tf.nest.map_structure(lambda t: t[:part], pack(latents, labels))
            scale = self.interval * tf.cast(batch, tf.float32) / tf.cast(part, tf.float32)
            return tf.pad(self.penalty(gan.generator, inputs) * scale, [[0, batch - part]])

        if self.interval == 1:
            return regularize()
        due = tf.equal(gan.train_steps % self.interval, 0)
        return tf.cond(due, regularize, lambda: tf.zeros([batch], tf.float32))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "weight": self.weight,
            "decay": self.decay,
            "interval": self.interval,
            "batch_shrink": self.batch_shrink,
            "seed": self.seed,
        }
