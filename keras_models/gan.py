"""`GAN`: a Keras model that trains a generator and a discriminator with DiffAugment.

The model owns the decisions the DiffAugment paper is about (which images are augmented,
in which step, with gradients through the augmentation) and the ones where GAN training
usually goes wrong silently: loss scaling by the global batch under `tf.distribute`,
mixed-precision loss scaling, non-finite losses, and exact resume.
"""

import os
import warnings

import keras
import tensorflow as tf

import tf_diffaug
from keras_models import losses as gan_losses

# Which discriminator calls are augmented, per `augment_mode` (the paper's ablation).
# Roles: "d_real"/"d_fake" are the reals/fakes of the D step, "g_fake" the fakes of the
# G step. Two more roles are used by consistency regularisation and evaluation:
# "clean" is never augmented and "consistency" always is.
AUGMENTED_ROLES = {
    "diffaugment": frozenset({"d_real", "d_fake", "g_fake"}),
    "discriminator_only": frozenset({"d_real", "d_fake"}),
    "reals_only": frozenset({"d_real"}),
    "none": frozenset(),
}


def _assign_on_replicas(assignments):
    """Assigns `(variable, value)` pairs on every replica from a replica context.

    Values must be equal on all replicas (derived from all-reduced quantities). This is
    how Keras's optimizers update variables: it works with and without a strategy, with
    merge calls (MirroredStrategy in graph mode) and without them (XLA, TPU).
    """

    def update(strategy, assignments):
        for variable, value in assignments:
            strategy.extended.update(
                variable, lambda var, new: var.assign(new), args=(value,), group=False
            )

    tf.__internal__.distribute.interim.maybe_merge_call(
        update, tf.distribute.get_strategy(), [(v.value, x) for v, x in assignments]
    )


def _apply_if(condition, optimizer, grads, variables):
    """`optimizer.apply(grads, variables)` if `condition`, else nothing changes at all.

    `condition` must be equal on all replicas. Under a strategy that needs merge calls the
    `tf.cond` must be taken in cross-replica context, since the optimizer merge-calls and
    a merge call may not sit inside a replica-context `cond` (Keras's LossScaleOptimizer
    does the same).
    """
    apply = lambda grads: optimizer.apply(grads, variables)
    if tf.__internal__.distribute.strategy_supports_no_merge_call():
        tf.cond(condition, lambda: apply(grads), lambda: None)
        return

    def cross_replica(strategy, condition, grads):
        condition = strategy.experimental_local_results(condition)[0]
        tf.cond(
            condition,
            lambda: strategy.extended.call_for_each_replica(apply, args=(grads,)),
            lambda: None,
        )

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(condition, grads))


def _replica_rows(values, local_batch):
    """This replica's rows of tensors drawn for the global batch (rows are replica-major,
    as `tf.distribute` splits a dataset batch)."""
    context = tf.distribute.get_replica_context()
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * local_batch
    return tf.nest.map_structure(lambda v: v[start : start + local_batch], values)


def _num_replicas():
    return tf.distribute.get_replica_context().num_replicas_in_sync


class GAN(keras.Model):
    """A GAN as a Keras model: `compile` with two optimizers, then `fit` a dataset.

    ```python
    gan = keras_models.GAN(generator, discriminator, latent_dim=128,
                           augment=tf_diffaug.DiffAugment("color,translation,cutout"))
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.999),
                g_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.999))
    gan.fit(dataset, epochs=10, callbacks=[keras_models.gan.NonFiniteGuard()])
    images = gan.generate(16)                      # EMA generator, [-1, 1], NHWC
    gan.export_generator("/tmp/generator")         # SavedModel: latents[, labels] -> images
    ```

    Calling convention for backbones. Unconditional: `generator(latents)` with latents
    float (B, latent_dim) and `discriminator(images)`. Conditional (`num_classes` set):
    `generator([latents, labels])` and `discriminator([images, labels])`, labels int32
    (B,) class indices. Generators return NHWC images in [-1, 1]; discriminators return
    (B, 1) (or (B,)) logits. Both are called with `training=`.

    One training step (`train_step`) is `d_steps_per_g_step` discriminator updates, then
    one generator update, then the EMA update. The dataset batch is split into
    `d_steps_per_g_step` equal parts, one per D step (batch the dataset by
    `batch_size * d_steps_per_g_step`); the fakes of a D step get the labels of its reals
    and the G step uses the labels of the last part. Every discriminator call goes through
    `discriminate`, which applies `augment` according to `augment_mode`:

    | augment_mode         | D step: reals | D step: fakes | G step: fakes |
    |----------------------|---------------|---------------|---------------|
    | `diffaugment`        | T             | T             | T (grads through T) |
    | `discriminator_only` | T             | T             | -             |
    | `reals_only`         | T             | -             | -             |
    | `none`               | -             | -             | -             |

    Distribution, precision and randomness:
    - Per-sample losses are divided by the global batch (`tf.nn.compute_average_loss`),
      so a step on N replicas equals a step on one device with the same global batch.
      Latents are drawn for the global batch and each replica keeps its rows, so they
      do not depend on the replica count (`tf_diffaug.DiffAugment` folds the replica id
      into its seeds: replicas are augmented independently).
      Build and compile the model inside `strategy.scope()`.
    - Randomness comes from `keras.random.SeedGenerator`s (no Python or NumPy state), so
      the step compiles with XLA and resumes exactly.
    - Under `mixed_float16` each optimizer is wrapped in a
      `keras.optimizers.LossScaleOptimizer` (`mixed_bfloat16` needs none); logits and
      losses are float32.
    - A step whose loss (or, without loss scaling, gradient) is not finite on any replica
      leaves the weights and optimizer state unchanged; `nonfinite_steps` counts such
      steps and `nonfinite_streak` the consecutive ones (see `NonFiniteGuard`).

    Args:
        generator: Keras model, latents (and labels) -> images.
        discriminator: Keras model, images (and labels) -> logits.
        latent_dim: size of the latent vectors.
        augment: any Keras layer called as `augment(images, training=True)`; None uses
            `tf_diffaug.DiffAugment("color,translation,cutout")`.
        augment_mode: "diffaugment", "discriminator_only", "reals_only" or "none".
        loss: "hinge", "non_saturating" or "wasserstein" (see `keras_models.losses`).
        r1_gamma: weight of the R1 penalty `r1_gamma / 2 * |dD(x)/dx|^2` on the images D
            sees (augmented reals when reals are augmented); 0 disables it.
        r1_interval: lazy regularisation: R1 is added every `r1_interval` steps and
            multiplied by `r1_interval` (StyleGAN2).
        consistency_weight: weight of `|D(x) - D(T(x))|^2` on reals (CR-GAN); 0 disables.
        ema_decay: decay of the exponential moving average of the generator used by
            `generate` and `export_generator`; None disables the EMA copy.
        ema_start_step: before this step the EMA copy just follows the generator.
        d_steps_per_g_step: discriminator updates per generator update.
        num_classes: number of classes for a class-conditional GAN, or None.
        g_regularizer: optional `fn(gan, latents, labels, images) -> (B,)` penalty added
            per sample to the generator loss, called inside the G-step gradient tape
            (e.g. StyleGAN2's path-length regulariser); may read `gan.train_steps`.
        seed: int seed of the latent draws, or None.
        **kwargs: base `keras.Model` arguments (name, ...).
    """

    def __init__(
        self,
        generator,
        discriminator,
        *,
        latent_dim,
        augment=None,
        augment_mode="diffaugment",
        loss="hinge",
        r1_gamma=0.0,
        r1_interval=1,
        consistency_weight=0.0,
        ema_decay=0.999,
        ema_start_step=0,
        d_steps_per_g_step=1,
        num_classes=None,
        g_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if augment_mode not in AUGMENTED_ROLES:
            raise ValueError(
                f"`augment_mode` must be one of {sorted(AUGMENTED_ROLES)}. "
                f"Received: augment_mode={augment_mode!r}"
            )
        for name, value in (
            ("r1_interval", r1_interval),
            ("d_steps_per_g_step", d_steps_per_g_step),
        ):
            if int(value) < 1:
                raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value}")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in [0, 1) or None. Received: {ema_decay}")
        self.d_loss_fn, self.g_loss_fn = gan_losses.get(loss)
        self.generator = generator
        self.discriminator = discriminator
        self.augment = augment if augment is not None else tf_diffaug.DiffAugment()
        self.latent_dim = int(latent_dim)
        self.augment_mode = augment_mode
        self.loss_name = loss
        self.r1_gamma = float(r1_gamma)
        self.r1_interval = int(r1_interval)
        self.consistency_weight = float(consistency_weight)
        self.ema_decay = ema_decay
        self.ema_start_step = int(ema_start_step)
        self.d_steps_per_g_step = int(d_steps_per_g_step)
        self.num_classes = num_classes
        self.g_regularizer = g_regularizer
        self.seed = seed
        self._augmented_roles = AUGMENTED_ROLES[augment_mode] | {"consistency"}

        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")
        # Separate stream for `generate` and `test_step`, so that sampling during training
        # (validation, image grids in callbacks) does not change the training stream.
        self.sample_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1, name="sample_seed"
        )
        self.train_steps = keras.Variable(0, dtype="int64", trainable=False, name="train_steps")
        self.nonfinite_streak = keras.Variable(
            0, dtype="int64", trainable=False, name="nonfinite_streak"
        )
        self._build_networks()
        self.ema_generator = None if ema_decay is None else self._clone_generator()

        mean = lambda name: keras.metrics.Mean(name=name)
        self._trackers = {
            name: mean(name)
            for name in ("d_loss", "g_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy")
        }
        if self.r1_gamma:
            self._trackers["r1"] = mean("r1")
        if self.consistency_weight:
            self._trackers["consistency"] = mean("consistency")
        self._trackers["nonfinite_steps"] = keras.metrics.Sum(name="nonfinite_steps")

    # --- construction ---------------------------------------------------------------

    def _build_networks(self):
        """Creates every weight now, so that optimizers, checkpoints and the EMA copy
        can be set up before the first step."""
        latents = tf.zeros((1, self.latent_dim))
        labels = tf.zeros((1,), tf.int32)
        images = self._call_generator(self.generator, latents, labels, training=False)
        self.discriminate(images, labels, role="clean", training=False)
        if not self.augment.built:
            self.augment.build(images.shape)
        self.built = True

    def _clone_generator(self):
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

    def compile(self, d_optimizer, g_optimizer, jit_compile="auto", **kwargs):
        """Sets the two optimizers; other arguments go to `keras.Model.compile`.

        Call inside `strategy.scope()` when distributing. Under a `mixed_float16` policy
        of a network its optimizer is wrapped in a `keras.optimizers.LossScaleOptimizer`.

        Args:
            d_optimizer: optimizer of the discriminator.
            g_optimizer: optimizer of the generator.
            jit_compile: as in `keras.Model.compile`.
            **kwargs: other `keras.Model.compile` arguments (`steps_per_execution`,
                `run_eagerly`, ...); no loss or metrics (they are built in).
        """
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        self.d_optimizer = self._loss_scaled(d_optimizer, self.discriminator)
        self.g_optimizer = self._loss_scaled(g_optimizer, self.generator)
        # Built now: variables cannot be created inside the `tf.cond` that skips
        # non-finite steps.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @staticmethod
    def _loss_scaled(optimizer, network):
        if network.dtype_policy.name == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            return keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    @property
    def metrics(self):
        return list(self._trackers.values())

    # --- the two networks -----------------------------------------------------------

    def _call_generator(self, generator, latents, labels, training):
        inputs = latents if self.num_classes is None else [latents, labels]
        return generator(inputs, training=training)

    def discriminate(self, images, labels=None, *, role, training=True, tape=None):
        """Runs the discriminator; the only code path that calls it.

        Applies `augment` when `role` is augmented under `augment_mode` (see the class
        docstring; "consistency" is always augmented, "clean" never).

        Args:
            images: NHWC batch.
            labels: int (B,) class indices when conditional.
            role: "d_real", "d_fake", "g_fake", "clean" or "consistency".
            training: passed to the discriminator.
            tape: if given, watches the images the discriminator sees (for R1).

        Returns:
            `(logits, seen)`: float32 (B,) logits and the images D was fed.
        """
        if training and role in self._augmented_roles:
            images = self.augment(images, training=True)
        if tape is not None:
            tape.watch(images)
        inputs = images if self.num_classes is None else [images, labels]
        logits = self.discriminator(inputs, training=training)
        return tf.reshape(tf.cast(logits, tf.float32), [-1]), images

    def _sample_latents(self, local_batch, seed_generator):
        latents = keras.random.normal(
            (local_batch * _num_replicas(), self.latent_dim), seed=seed_generator
        )
        return _replica_rows(latents, local_batch)

    # --- training -------------------------------------------------------------------

    def _unpack(self, data):
        if self.num_classes is None:
            images = data[0] if isinstance(data, (tuple, list)) else data
            return images, None
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "A conditional GAN (num_classes set) expects a dataset of (images, labels). "
                f"Received: {data!r}"
            )
        return data[0], tf.reshape(tf.cast(data[1], tf.int32), [-1])

    def _discriminator_gradients(self, reals, fakes, labels, with_r1):
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            with tf.GradientTape(watch_accessed_variables=False) as r1_tape:
                real_logits, seen = self.discriminate(
                    reals, labels, role="d_real", tape=r1_tape if with_r1 else None
                )
            fake_logits, _ = self.discriminate(fakes, labels, role="d_fake")
            adversarial = self.d_loss_fn(real_logits, fake_logits)
            total = adversarial
            r1 = tf.zeros_like(adversarial)
            if with_r1:
                # The gradient of the (B,) logits is that of their sum: per-sample dD(x)/dx.
                r1 = gan_losses.r1_penalty(r1_tape.gradient(real_logits, seen))
                total += (0.5 * self.r1_gamma * self.r1_interval) * r1
            consistency = None
            if self.consistency_weight:
                if "d_real" in self._augmented_roles:
                    clean, _ = self.discriminate(reals, labels, role="clean")
                    augmented = real_logits
                else:
                    clean = real_logits
                    augmented, _ = self.discriminate(reals, labels, role="consistency")
                consistency = gan_losses.consistency_penalty(clean, augmented)
                total += self.consistency_weight * consistency
            loss = tf.nn.compute_average_loss(total)
            scaled = self.d_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        logs = {
            "d_loss": adversarial,
            "d_real_logits": real_logits,
            "d_fake_logits": fake_logits,
            "d_real_accuracy": tf.cast(real_logits > 0, tf.float32),
            "r1": r1,
            "consistency": consistency,
        }
        return loss, grads, logs

    def _discriminator_step(self, reals, labels):
        local_batch = tf.shape(reals)[0]
        fakes = self._call_generator(
            self.generator,
            self._sample_latents(local_batch, self.seed_generator),
            labels,
            training=True,
        )
        fakes = tf.stop_gradient(fakes)
        step = lambda with_r1: self._discriminator_gradients(reals, fakes, labels, with_r1)
        if not self.r1_gamma:
            loss, grads, logs = step(False)
            r1_weight = 0.0
        elif self.r1_interval == 1:
            loss, grads, logs = step(True)
            r1_weight = 1.0
        else:
            due = tf.equal(self.train_steps % self.r1_interval, 0)
            loss, grads, logs = tf.cond(due, lambda: step(True), lambda: step(False))
            r1_weight = tf.cast(due, tf.float32)
        finite = self._finite(loss, grads, self.d_optimizer)
        _apply_if(finite, self.d_optimizer, grads, self.discriminator.trainable_variables)
        for name in ("d_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"):
            self._track(name, logs[name], finite)
        if self.r1_gamma:
            self._track("r1", logs["r1"], finite, r1_weight)
        if self.consistency_weight:
            self._track("consistency", logs["consistency"], finite)
        return finite

    def _generator_step(self, local_batch, labels):
        variables = self.generator.trainable_variables
        latents = self._sample_latents(local_batch, self.seed_generator)
        with tf.GradientTape() as tape:
            fakes = self._call_generator(self.generator, latents, labels, training=True)
            fake_logits, _ = self.discriminate(fakes, labels, role="g_fake")
            adversarial = self.g_loss_fn(fake_logits)
            total = adversarial
            if self.g_regularizer is not None:
                total += self.g_regularizer(self, latents, labels, fakes)
            loss = tf.nn.compute_average_loss(total)
            scaled = self.g_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        finite = self._finite(loss, grads, self.g_optimizer)
        _apply_if(finite, self.g_optimizer, grads, variables)
        self._track("g_loss", adversarial, finite)
        return finite

    def _finite(self, loss, grads, optimizer):
        """True on every replica iff the loss is finite on every replica, and so are the
        gradients unless a LossScaleOptimizer handles overflowing gradients itself."""
        finite = tf.math.is_finite(loss)
        if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            finite &= tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None]
            )
        bad = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.float32)
        )
        return tf.equal(bad, 0.0)

    def _track(self, name, values, finite, weight=1.0):
        """Updates a Mean tracker with per-sample values; skipped steps count for nothing."""
        weight = tf.cast(finite, tf.float32) * weight
        values = tf.where(finite, values, tf.zeros_like(values))
        self._trackers[name].update_state(values, sample_weight=weight * tf.ones_like(values))

    def _update_ema(self):
        step = tf.cast(self.train_steps, tf.float32)
        decay = tf.where(step < self.ema_start_step, 0.0, self.ema_decay)
        assignments = []
        for average, weight in zip(self.ema_generator.weights, self.generator.weights, strict=True):
            if weight.trainable:
                value = weight + tf.cast(decay, weight.dtype) * (average - weight)
            else:  # e.g. batch-norm statistics: copied, as StyleGAN2 copies buffers
                value = tf.identity(weight)
            assignments.append((average, value))
        _assign_on_replicas(assignments)

    def train_step(self, data):
        images, labels = self._unpack(data)
        parts = self.d_steps_per_g_step
        image_parts = tf.split(images, parts) if parts > 1 else [images]
        label_parts = tf.split(labels, parts) if parts > 1 and labels is not None else None
        all_finite = tf.constant(True)
        for i, reals in enumerate(image_parts):
            part_labels = label_parts[i] if label_parts is not None else labels
            all_finite &= self._discriminator_step(reals, part_labels)
        all_finite &= self._generator_step(tf.shape(image_parts[-1])[0], part_labels)
        if self.ema_generator is not None:
            self._update_ema()
        bad = tf.cast(tf.logical_not(all_finite), "int64")
        # Keras averages metric results over replicas; every replica sees the same `bad`.
        self._trackers["nonfinite_steps"].update_state(tf.cast(bad, tf.float32))
        _assign_on_replicas(
            [
                (self.train_steps, self.train_steps + 1),
                (self.nonfinite_streak, (self.nonfinite_streak + 1) * bad),
            ]
        )
        return self._metric_results()

    def test_step(self, data):
        """Losses, logits and D's accuracy on un-augmented reals and fakes of G."""
        reals, labels = self._unpack(data)
        # The sampling stream: evaluation must not shift the training stream (exact resume).
        latents = self._sample_latents(tf.shape(reals)[0], self.sample_seed_generator)
        fakes = self._call_generator(self.generator, latents, labels, training=False)
        real_logits, _ = self.discriminate(reals, labels, role="clean", training=False)
        fake_logits, _ = self.discriminate(fakes, labels, role="clean", training=False)
        logs = {
            "d_loss": self.d_loss_fn(real_logits, fake_logits),
            "g_loss": self.g_loss_fn(fake_logits),
            "d_real_logits": real_logits,
            "d_fake_logits": fake_logits,
            "d_real_accuracy": tf.cast(real_logits > 0, tf.float32),
        }
        for name, values in logs.items():
            self._trackers[name].update_state(values)
        return self._metric_results()

    def _metric_results(self):
        results = {m.name: m.result() for m in self.metrics}
        if self.distribute_strategy.extended._in_multi_worker_mode():
            # Keras 3 reduces each log across workers with `reduce(MEAN, axis=0)`, which
            # fails on scalars (tensorflow/tensorflow#72388); a (1,) log reduces to a scalar.
            results = {name: tf.reshape(value, (1,)) for name, value in results.items()}
        return results

    # --- sampling and export --------------------------------------------------------

    def _sampling_generator(self, use_ema):
        return (
            self.ema_generator if use_ema and self.ema_generator is not None else (self.generator)
        )

    def generate(self, num_or_latents, labels=None, use_ema=True):
        """Generates images.

        Args:
            num_or_latents: number of images (latents drawn from the model's sampling
                seed generator) or a float (B, latent_dim) array of latents.
            labels: int (B,) class indices for a conditional GAN; None draws them
                uniformly.
            use_ema: use the EMA generator when there is one.

        Returns:
            float32 (B, H, W, C) images in [-1, 1].
        """
        if isinstance(num_or_latents, int):
            latents = keras.random.normal(
                (num_or_latents, self.latent_dim), seed=self.sample_seed_generator
            )
        else:
            latents = tf.convert_to_tensor(num_or_latents, tf.float32)
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    "`labels` are only accepted by a conditional GAN (num_classes set). "
                    f"Received: labels={labels!r}"
                )
        elif labels is None:
            labels = keras.random.randint(
                (tf.shape(latents)[0],),
                0,
                self.num_classes,
                seed=self.sample_seed_generator,
                dtype="int32",
            )
        else:
            labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
        images = self._call_generator(
            self._sampling_generator(use_ema), latents, labels, training=False
        )
        return tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)

    def export_generator(self, path, use_ema=True):
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

    # --- state ----------------------------------------------------------------------

    def _random_states(self):
        """The seed-generator states of the GAN and of every layer in it (augment, and
        e.g. noise or dropout in G and D), which Keras weight files do not include."""
        weights = {id(w) for w in self.weights}
        return [v for v in self.variables if id(v) not in weights]

    def checkpoint_items(self):
        """Everything a resume needs, for `tf.train.Checkpoint(**gan.checkpoint_items())`:
        every weight of both networks and of the EMA generator, both optimizers (call
        `compile` first), the step and non-finite counters and the seed-generator states.

        Weights are listed explicitly, by position: TensorFlow's checkpoint graph does not
        descend into Keras 3 layers held in Python lists (e.g. a backbone's blocks), so
        saving the networks as objects would silently drop those layers' non-trainable
        state (batch-norm statistics, spectral-norm vectors)."""
        items = {
            "generator_weights": list(self.generator.weights),
            "discriminator_weights": list(self.discriminator.weights),
            "d_optimizer": self.d_optimizer,
            "g_optimizer": self.g_optimizer,
            "train_steps": self.train_steps,
            "nonfinite_streak": self.nonfinite_streak,
        }
        if self.ema_generator is not None:
            items["ema_generator_weights"] = list(self.ema_generator.weights)
        items.update({f"random_state_{i}": s for i, s in enumerate(self._random_states())})
        return items

    def save_own_variables(self, store):
        # Adds the seed states so that `save_weights` / `BackupAndRestore` resume exactly.
        super().save_own_variables(store)
        for i, state in enumerate(self._random_states()):
            store[f"random_state_{i}"] = state

    def load_own_variables(self, store):
        states = self._random_states()
        own = {k: store[k] for k in store.keys() if not k.startswith("random_state_")}
        super().load_own_variables(own)
        for i, state in enumerate(states):
            key = f"random_state_{i}"
            if key in store:
                state.assign(store[key])


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops `fit` after `max_nonfinite_steps` consecutive non-finite steps of a `GAN`.

    Skipped steps leave the weights unchanged, so the last checkpoint is still good; the
    message names it so that training can resume from it (e.g. with a lower learning
    rate).

    Args:
        max_nonfinite_steps: consecutive skipped steps tolerated.
        checkpoint_dir: where checkpoints are written (a `tf.train.CheckpointManager`
            directory or a `keras.callbacks.BackupAndRestore` backup_dir), or None.
    """

    def __init__(self, max_nonfinite_steps=10, checkpoint_dir=None):
        super().__init__()
        self.max_nonfinite_steps = int(max_nonfinite_steps)
        self.checkpoint_dir = checkpoint_dir

    def on_train_batch_end(self, batch, logs=None):
        streak = int(keras.ops.convert_to_numpy(self.model.nonfinite_streak))
        if streak < self.max_nonfinite_steps:
            return
        self.model.stop_training = True
        warnings.warn(
            f"Training stopped: {streak} consecutive steps had a non-finite loss or "
            f"gradient (max_nonfinite_steps={self.max_nonfinite_steps}); their updates "
            f"were skipped, so the weights are those of the last finite step. Last good "
            f"checkpoint: {self._last_checkpoint()}. Check the data and lower the "
            "learning rates before resuming.",
            RuntimeWarning,
            stacklevel=2,
        )

    def _last_checkpoint(self):
        if self.checkpoint_dir is None:
            return "none (no checkpoint_dir given)"
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        backup = os.path.join(self.checkpoint_dir, "latest.weights.h5")
        if latest is None and os.path.exists(backup):
            latest = backup
        return latest or f"none found in {self.checkpoint_dir}"
