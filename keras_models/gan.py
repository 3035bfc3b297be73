"""`GAN`: a Keras model that trains a generator and a discriminator with DiffAugment.

The model owns the decisions the DiffAugment paper is about (which images are augmented,
in which step, with gradients through the augmentation) and the ones where GAN training
usually goes wrong silently: loss scaling by the global batch under `tf.distribute`,
mixed-precision loss scaling, non-finite losses, and exact resume.
"""

import inspect

import keras
import numpy as np
import tensorflow as tf

import tf_diffaug
from keras_models import losses as gan_losses
from keras_models.adaptive import AdaptiveStrength
from keras_models.backbone import freeze_blocks
from keras_models.conditioning import pack

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


def _no_merge_calls():
    """Whether the current strategy updates variables without merge calls, which may not
    sit inside a `tf.cond` or `tf.while_loop` of a replica context."""
    return tf.__internal__.distribute.strategy_supports_no_merge_call()


def _run_if(condition, fn, *args):
    """`fn(*args)` in replica context if `condition`, else nothing changes at all.

    `condition` must be equal on all replicas. Under a strategy that needs merge calls the
    `tf.cond` must be taken in cross-replica context, since `fn` may merge-call (optimizer
    updates, assignments of aggregated variables) and a merge call may not sit inside a
    replica-context `cond` (Keras's LossScaleOptimizer does the same).
    """

    def run(*args):  # returns nothing, as the other branch
        fn(*args)

    if _no_merge_calls():
        tf.cond(condition, lambda: run(*args), lambda: None)
        return

    def cross_replica(strategy, condition, args):
        condition = strategy.experimental_local_results(condition)[0]
        tf.cond(
            condition,
            lambda: strategy.extended.call_for_each_replica(run, args=args),
            lambda: None,
        )

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(condition, args))


def _batch_norm_layers(network):
    return [
        layer
        for layer in network._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


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
    gan.fit(dataset, epochs=10, callbacks=[keras_models.callbacks.NonFiniteGuard()])
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
    `batch_size * d_steps_per_g_step`). Fake labels are drawn uniformly for every D and
    G step, as the authors' BigGAN code does (`fake_labels="reals"` gives the fakes the
    labels of the reals instead). Every discriminator input is augmented according to
    `augment_mode`, in one place (`_augment`), and D runs in one place
    (`_run_discriminator`):

    | augment_mode         | D step: reals | D step: fakes | G step: fakes |
    |----------------------|---------------|---------------|---------------|
    | `diffaugment`        | T             | T             | T (grads through T) |
    | `discriminator_only` | T             | T             | -             |
    | `reals_only`         | T             | -             | -             |
    | `none`               | -             | -             | -             |

    A D step scores fakes and reals (and the consistency images) in one discriminator
    call on their concatenation when the discriminator allows it, as BigGAN's `G_D`
    does: one spectral-norm power iteration per D step, and reals and fakes scored with
    the same weights. A discriminator that mixes samples of a batch (StyleGAN2's
    minibatch standard deviation) is run separately on each, as StyleGAN2 does. Backbones
    declare it with a `joint_discriminator_pass` attribute (BigGAN's is True).

    Adaptive augmentation (ours, after ADA): with `augment_strength=AdaptiveStrength()`
    the augmentation probability p is a non-trainable variable of the model, passed to
    `augment` as `probability=p`; D's logits on the reals of each D step steer it toward
    a target overfitting heuristic r_t (see `keras_models.AdaptiveStrength`), and `fit`
    logs `augment_p` and `r_t`.

    Distribution, precision and randomness:
    - Per-sample losses are divided by the global batch (`tf.nn.compute_average_loss`),
      so a step on N replicas equals a step on one device with the same global batch.
      Latents and fake labels are drawn for the global batch and each replica keeps its
      rows, so they do not depend on the replica count (`tf_diffaug.DiffAugment` folds
      the replica id into its seeds: replicas are augmented independently).
      Build and compile the model inside `strategy.scope()`.
    - Randomness comes from `keras.random.SeedGenerator`s (no Python or NumPy state), so
      the step compiles with XLA and resumes exactly.
    - Under `mixed_float16` each optimizer is wrapped in a
      `keras.optimizers.LossScaleOptimizer` (`mixed_bfloat16` needs none); logits and
      losses are float32.
    - An update (a D step, or the G step with its EMA update) whose loss (or, without
      loss scaling, gradient) is not finite on any replica changes no variable of the
      networks: not the weights, nor the optimizer state, nor the non-trainable state
      that the forward passes update (batch-norm statistics, spectral-norm vectors,
      regulariser averages). `nonfinite_steps` counts such steps and `nonfinite_streak`
      the consecutive ones (see `NonFiniteGuard`).
    - The EMA generator samples with its own batch-norm statistics: before `generate`
      and `export_generator` they are recomputed as the average batch statistics of the
      EMA generator over `standing_statistics_batches` batches of random latents
      (BigGAN-PyTorch's "standing statistics"), so that an image sampled alone looks like
      one sampled in a batch.

    Args:
        generator: Keras model, latents (and labels) -> images.
        discriminator: Keras model, images (and labels) -> logits.
        latent_dim: size of the latent vectors.
        augment: any Keras layer called as `augment(images, training=True)`; None uses
            `tf_diffaug.DiffAugment("color,translation,cutout")`.
        augment_mode: "diffaugment", "discriminator_only", "reals_only" or "none".
        augment_strength: None (`augment` as configured, e.g. DiffAugment's fixed
            `probability`), or a `keras_models.AdaptiveStrength` whose p is passed to
            every `augment` call as `probability=p` (a float32 scalar tensor): reals and
            fakes, D and G steps, and the consistency images (not
            `consistency_augment`). Any layer whose `call` takes a `probability`
            keyword can be driven so; `fit` then logs `augment_p` and `r_t`.
        loss: "hinge", "non_saturating" or "wasserstein" (see `keras_models.losses`).
        r1_gamma: weight of the R1 penalty `r1_gamma / 2 * |dD/dx|^2`; 0 disables it.
        r1_interval: lazy regularisation: R1 is added every `r1_interval` steps and
            multiplied by `r1_interval` (StyleGAN2).
        r1_inputs: what R1's gradient is taken with respect to when reals are augmented:
            "augmented" (the images D sees, T(x): `ns_r1_DiffAugment` of the authors'
            StyleGAN2 code) or "reals" (x, through T: `ns_DiffAugment_r1`).
        consistency_weight: weight of the consistency penalty on reals (CR-GAN); 0
            disables it.
        consistency_augment: None for `|D(x) - D(T(x))|^2`, or a layer T' for
            `|D(T'(T(x))) - D(T(x))|^2` (the authors' BigGAN `--CR_augment`).
        ema_decay: decay of the exponential moving average of the generator used by
            `generate` and `export_generator`; None disables the EMA copy.
        ema_start_step: before this step the EMA copy just follows the generator.
        d_steps_per_g_step: discriminator updates per generator update.
        num_classes: number of classes for a class-conditional GAN, or None.
        fake_labels: "random" (uniform class labels for the fakes of every step) or
            "reals" (the labels of the reals of the same D step).
        joint_discriminator_pass: score reals and fakes of a D step in one
            discriminator call; None reads the discriminator's `joint_discriminator_pass`
            attribute (False when it has none).
        standing_statistics_batches: batches of 64 latents averaged for the EMA
            generator's batch-norm statistics.
        g_regularizer: optional `fn(gan, latents, labels, images) -> (B,)` penalty added
            per sample to the generator loss, called inside the G-step gradient tape
            (e.g. StyleGAN2's path-length regulariser); may read `gan.train_steps`.
        frozen_discriminator_blocks: FreezeD (Mo et al., 2020) for fine-tuning: the first
            this many blocks of the discriminator from the image side
            (`discriminator.blocks_from_input()`) are made non-trainable (see
            `keras_models.backbone.freeze_blocks`): D's optimizer gets no slots for them
            and they keep their weights, spectral-norm vectors and batch-norm statistics
            exactly. 0 trains every block.
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
        augment_strength=None,
        loss="hinge",
        r1_gamma=0.0,
        r1_interval=1,
        r1_inputs="augmented",
        consistency_weight=0.0,
        consistency_augment=None,
        ema_decay=0.999,
        ema_start_step=0,
        d_steps_per_g_step=1,
        num_classes=None,
        fake_labels="random",
        joint_discriminator_pass=None,
        standing_statistics_batches=16,
        g_regularizer=None,
        frozen_discriminator_blocks=0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value, valid in (
            ("augment_mode", augment_mode, AUGMENTED_ROLES),
            ("r1_inputs", r1_inputs, ("augmented", "reals")),
            ("fake_labels", fake_labels, ("random", "reals")),
        ):
            if value not in valid:
                raise ValueError(
                    f"`{name}` must be one of {sorted(valid)}. Received: {name}={value!r}"
                )
        for name, value in (
            ("r1_interval", r1_interval),
            ("d_steps_per_g_step", d_steps_per_g_step),
            ("standing_statistics_batches", standing_statistics_batches),
        ):
            if int(value) < 1:
                raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value}")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in [0, 1) or None. Received: {ema_decay}")
        self.d_loss_fn, self.g_loss_fn = gan_losses.get(loss)
        self.generator = generator
        self.discriminator = discriminator
        self.augment = augment if augment is not None else tf_diffaug.DiffAugment()
        self.augment_strength = self._checked_strength(augment_strength, augment_mode)
        self.consistency_augment = consistency_augment
        self.latent_dim = int(latent_dim)
        self.augment_mode = augment_mode
        self.loss_name = loss
        self.r1_gamma = float(r1_gamma)
        self.r1_interval = int(r1_interval)
        self.r1_inputs = r1_inputs
        self.consistency_weight = float(consistency_weight)
        self.ema_decay = ema_decay
        self.ema_start_step = int(ema_start_step)
        self.d_steps_per_g_step = int(d_steps_per_g_step)
        self.num_classes = num_classes
        self.fake_labels = fake_labels
        if joint_discriminator_pass is None:
            joint_discriminator_pass = getattr(discriminator, "joint_discriminator_pass", False)
        self.joint_discriminator_pass = bool(joint_discriminator_pass)
        self.standing_statistics_batches = int(standing_statistics_batches)
        self.g_regularizer = g_regularizer
        # Before anything reads D's trainable variables (the optimizer, in `compile`).
        self.frozen_discriminator_blocks = int(frozen_discriminator_blocks)
        freeze_blocks(discriminator, self.frozen_discriminator_blocks)
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
        self._standing_statistics_step = None  # train_steps when they were last computed
        # Run the D steps of a train step in a loop where it pays (`_discriminator_steps`).
        self.compact_d_steps = True

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
        try:
            self.discriminate(images, labels, role="clean", training=False)
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
            cause = error  # Keras wraps a layer's error in its own: name the original
            while cause.__cause__ or cause.__context__:
                cause = cause.__cause__ or cause.__context__
            cause = str(cause).strip().splitlines()[0]
            raise ValueError(
                "Expected the discriminator to take the generator's images. The generator "
                f"makes images of shape {tuple(images.shape[1:])}; calling the discriminator "
                f"on them failed: {cause}"
            ) from error
        for layer in (self.augment, self.consistency_augment):
            if layer is not None and not layer.built:
                layer.build(images.shape)
        if self.augment_strength is not None and not self.augment_strength.built:
            self.augment_strength.build()
        self.built = True

    def _checked_strength(self, strength, augment_mode):
        if strength is None:
            return None
        if not isinstance(strength, AdaptiveStrength):
            raise ValueError(
                "Expected `augment_strength` to be a keras_models.AdaptiveStrength or None. "
                f"Received: augment_strength={strength!r}"
            )
        if augment_mode == "none":
            raise ValueError(
                "An `augment_strength` drives the augmentation of D's inputs, and "
                "augment_mode='none' augments none. Received: augment_mode='none'"
            )
        if "probability" not in inspect.signature(self.augment.call).parameters:
            raise ValueError(
                "Expected an `augment` layer whose `call` takes a `probability` keyword "
                "(as tf_diffaug.DiffAugment does), which `augment_strength` sets. Received: "
                f"{type(self.augment).__name__}.call{inspect.signature(self.augment.call)}"
            )
        return strength

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
        labels = None if self.num_classes is None else labels
        return generator(pack(latents, labels), training=training)

    def _augment(self, images, role, training=True):
        """The one place where D's inputs are augmented: `augment` when `role` is
        augmented under `augment_mode` (see the class docstring; "consistency" is always
        augmented, "clean" never)."""
        if not training or role not in self._augmented_roles:
            return images
        if self.augment_strength is None:
            return self.augment(images, training=True)
        return self.augment(images, training=True, probability=self.augment_strength.p.value)

    def _run_discriminator(self, images, labels, training):
        """The one place where D runs: on each batch of the list `images` (with the
        matching entry of `labels`), in one call on their concatenation when
        `joint_discriminator_pass`. Returns float32 (B_i,) logits per batch."""
        call = lambda x, y: tf.reshape(
            tf.cast(self.discriminator(pack(x, y), training=training), tf.float32), [-1]
        )
        if self.num_classes is None:
            labels = [None] * len(images)
        if not self.joint_discriminator_pass or len(images) == 1:
            return [call(x, y) for x, y in zip(images, labels, strict=True)]
        sizes = tf.stack([tf.shape(x)[0] for x in images])
        joint = tf.concat([tf.cast(x, images[0].dtype) for x in images], 0)
        return tf.split(call(joint, None if labels[0] is None else tf.concat(labels, 0)), sizes)

    def discriminate(self, images, labels=None, *, role, training=True, tape=None):
        """Runs the discriminator on one batch, augmented as `role` says.

        Args:
            images: NHWC batch.
            labels: int (B,) class indices when conditional.
            role: "d_real", "d_fake", "g_fake", "clean" or "consistency" (see the class
                docstring).
            training: passed to the discriminator; no augmentation when False.
            tape: if given, watches the images the discriminator sees (for R1).

        Returns:
            `(logits, seen)`: float32 (B,) logits and the images D was fed.
        """
        images = self._augment(images, role, training)
        if tape is not None:
            tape.watch(images)
        (logits,) = self._run_discriminator([images], [labels], training)
        return logits, images

    def _sample_latents(self, local_batch, seed_generator):
        latents = keras.random.normal(
            (local_batch * _num_replicas(), self.latent_dim), seed=seed_generator
        )
        return _replica_rows(latents, local_batch)

    def _sample_fake_labels(self, local_batch, real_labels):
        """Labels for a batch of fakes: None, the reals' labels, or uniform draws."""
        if self.num_classes is None or self.fake_labels == "reals":
            return real_labels
        labels = keras.random.randint(
            (local_batch * _num_replicas(),),
            0,
            self.num_classes,
            seed=self.seed_generator,
            dtype="int32",
        )
        return _replica_rows(labels, local_batch)

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
        labels = tf.reshape(tf.cast(data[1], tf.int32), [-1])
        # A label out of range would fail inside an embedding lookup with an opaque error
        # (or, on a GPU, read zeros). XLA compiles the check away.
        low, high = tf.reduce_min(labels), tf.reduce_max(labels)
        message = f"Expected class labels in [0, num_classes={self.num_classes}). Received:"
        check = tf.debugging.Assert((low >= 0) & (high < self.num_classes), [message, low, high])
        with tf.control_dependencies([check]):  # before any use of the labels
            return data[0], tf.identity(labels)

    def _consistency_images(self, reals, seen_reals):
        """The images whose logits consistency regularisation compares with D(T(x))."""
        if self.consistency_augment is not None:  # T'(T(x))
            return self.consistency_augment(seen_reals, training=True)
        if "d_real" in self._augmented_roles:  # x, against D(T(x)) of the D step
            return reals
        return self._augment(reals, "consistency")  # T(x), against D(x) of the D step

    def _discriminator_gradients(self, reals, fakes, labels, fake_labels, r1_due):
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            with tf.GradientTape(watch_accessed_variables=False) as r1_tape:
                if self.r1_gamma and self.r1_inputs == "reals":
                    r1_tape.watch(reals)
                seen_reals = self._augment(reals, "d_real")
                if self.r1_gamma and self.r1_inputs == "augmented":
                    r1_tape.watch(seen_reals)
                images = [self._augment(fakes, "d_fake"), seen_reals]
                labels_of = [fake_labels, labels]
                if self.consistency_weight:
                    images.append(self._consistency_images(reals, seen_reals))
                    labels_of.append(labels)
                fake_logits, real_logits, *others = self._run_discriminator(
                    images, labels_of, training=True
                )
            adversarial = self.d_loss_fn(real_logits, fake_logits)
            total = adversarial
            r1 = tf.zeros_like(adversarial)
            if self.r1_gamma:
                # The gradient of the (B,) logits is that of their sum: per-sample dD/dx.
                wrt = reals if self.r1_inputs == "reals" else seen_reals
                penalty = lambda: gan_losses.r1_penalty(r1_tape.gradient(real_logits, wrt))
                # Only the penalty is conditional: random draws (augmentation) inside a
                # `tf.cond` lose their seed updates under XLA in some graphs.
                r1 = penalty() if r1_due is True else tf.cond(r1_due, penalty, lambda: r1)
                total += (0.5 * self.r1_gamma * self.r1_interval) * r1
            consistency = None
            if self.consistency_weight:
                consistency = gan_losses.consistency_penalty(real_logits, others[0])
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
        snapshot = self._snapshot_state()
        local_batch = tf.shape(reals)[0]
        fake_labels = self._sample_fake_labels(local_batch, labels)
        fakes = self._call_generator(
            self.generator,
            self._sample_latents(local_batch, self.seed_generator),
            fake_labels,
            training=True,
        )
        fakes = tf.stop_gradient(fakes)
        r1_due = True
        if self.r1_interval > 1:
            r1_due = tf.equal(self.train_steps % self.r1_interval, 0)
        loss, grads, logs = self._discriminator_gradients(reals, fakes, labels, fake_labels, r1_due)
        finite = self._finite(loss, grads, self.d_optimizer)
        self._update_or_restore(
            finite, self.d_optimizer, grads, self.discriminator.trainable_variables, snapshot
        )
        for name in ("d_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"):
            self._track(name, logs[name], finite)
        if self.augment_strength is not None:
            self._count_real_signs(logs["d_real_logits"], finite)
        if self.r1_gamma:
            self._track("r1", logs["r1"], finite, tf.cast(r1_due, tf.float32))
        if self.consistency_weight:
            self._track("consistency", logs["consistency"], finite)
        return finite

    def _count_real_signs(self, real_logits, finite):
        """Adds the signs of D's logits on this D step's reals, summed over replicas, to
        the adaptive strength's counts; a skipped step adds nothing."""
        local = tf.stack(
            [tf.reduce_sum(tf.sign(real_logits)), tf.cast(tf.size(real_logits), tf.float32)]
        )
        total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, local)
        total = tf.where(finite, total, tf.zeros_like(total))
        _assign_on_replicas(self.augment_strength.accumulate(total[0], total[1]))

    def _generator_step(self, local_batch, real_labels):
        snapshot = self._snapshot_state()
        variables = self.generator.trainable_variables
        latents = self._sample_latents(local_batch, self.seed_generator)
        labels = self._sample_fake_labels(local_batch, real_labels)
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
        self._update_or_restore(finite, self.g_optimizer, grads, variables, snapshot)
        self._track("g_loss", adversarial, finite)
        return finite

    def _discriminator_steps(self, images, labels):
        """`d_steps_per_g_step` D steps, each on its part of the batch.

        In graph mode, where the strategy allows updates inside a loop (no merge calls),
        the steps run in a `tf.while_loop`, so the D step is traced and optimised once
        however many there are. They are unrolled under merge-call strategies
        (MirroredStrategy on CPU), since a merge call may not sit inside a loop, and
        under XLA, whose CPU backend ran the loop 70 times slower than the unrolled steps
        (`benchmarks/biggan_bench.py`).

        Returns:
            `(finite, labels)`: whether every D update was finite, and the labels of the
            last part (for the G step).
        """
        parts = self.d_steps_per_g_step
        if parts == 1:
            return self._discriminator_step(images, labels), labels
        if images.shape[0] is not None and images.shape[0] % parts:
            raise ValueError(
                f"Expected a batch divisible by d_steps_per_g_step={parts} (each D step "
                f"takes its part; batch the dataset by batch_size * {parts}). Received: a "
                f"batch of {images.shape[0]} images (per replica)."
            )
        split = lambda x: None if x is None else tf.reshape(x, [parts, -1, *x.shape[1:]])
        images, labels = split(images), split(labels)
        part = lambda i: (images[i], None if labels is None else labels[i])
        if not self._d_steps_in_a_loop():
            finite = tf.constant(True)
            for i in range(parts):
                finite &= self._discriminator_step(*part(i))
            return finite, part(parts - 1)[1]

        def body(i, finite):
            return i + 1, finite & self._discriminator_step(*part(i))

        _, finite = tf.while_loop(lambda i, _: i < parts, body, (tf.constant(0), True))
        return finite, part(parts - 1)[1]

    def _d_steps_in_a_loop(self):
        return self.compact_d_steps and _no_merge_calls() and not self.jit_compile

    def _forward_state(self):
        """Variables that forward passes update: the networks' non-trainable weights
        (batch-norm statistics, spectral-norm vectors) and other state of the model
        outside the EMA copy (e.g. a regulariser's moving average)."""
        skip = {id(v) for v in self._counters()}
        if self.ema_generator is not None:
            skip |= {id(v) for v in self.ema_generator.weights}
        return [v for v in self.non_trainable_weights if id(v) not in skip]

    def _counters(self):
        """The model's own counters: checkpointed, and never restored by a skipped step."""
        strength = [] if self.augment_strength is None else self.augment_strength.weights
        return [self.train_steps, self.nonfinite_streak, *strength]

    def _snapshot_state(self):
        """`(variable, value)` pairs of the forward state before an update's passes."""
        return [(v, tf.identity(v.value)) for v in self._forward_state()]

    def _update_or_restore(self, finite, optimizer, grads, variables, snapshot):
        """Applies the update if `finite`; otherwise puts the forward state back."""
        _run_if(finite, lambda g: optimizer.apply(g, variables), grads)
        if snapshot:
            state, values = zip(*snapshot, strict=True)
            restore = lambda *values: [v.assign(x) for v, x in zip(state, values, strict=True)]
            _run_if(tf.logical_not(finite), restore, *values)

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

    def _update_ema(self, finite):
        """Moves the EMA copy toward the generator, unless the G update was skipped."""
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
        _assign_on_replicas(assignments)

    def train_step(self, data):
        images, labels = self._unpack(data)
        all_finite, last_labels = self._discriminator_steps(images, labels)
        local_batch = tf.shape(images)[0] // self.d_steps_per_g_step
        g_finite = self._generator_step(local_batch, last_labels)
        all_finite &= g_finite
        if self.ema_generator is not None:
            self._update_ema(g_finite)
        bad = tf.cast(tf.logical_not(all_finite), "int64")
        # Keras averages metric results over replicas; every replica sees the same `bad`.
        self._trackers["nonfinite_steps"].update_state(tf.cast(bad, tf.float32))
        assignments = [
            (self.train_steps, self.train_steps + 1),
            (self.nonfinite_streak, (self.nonfinite_streak + 1) * bad),
        ]
        if self.augment_strength is not None:
            due = tf.equal((self.train_steps + 1) % self.augment_strength.interval, 0)
            assignments += self.augment_strength.adjust(due)
        _assign_on_replicas(assignments)
        extra = {} if self.augment_strength is None else self.augment_strength.logs()
        return self._metric_results(extra)

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

    def _metric_results(self, extra=None):
        """The trackers' results, and `extra` logs (e.g. the current `augment_p`)."""
        results = {**{m.name: m.result() for m in self.metrics}, **(extra or {})}
        if self.distribute_strategy.extended._in_multi_worker_mode():
            # Keras 3 reduces each log across workers with `reduce(MEAN, axis=0)`, which
            # fails on scalars (tensorflow/tensorflow#72388); a (1,) log reduces to a scalar.
            results = {name: tf.reshape(value, (1,)) for name, value in results.items()}
        return results

    # --- sampling and export --------------------------------------------------------

    def _sampling_generator(self, use_ema):
        if not use_ema or self.ema_generator is None:
            return self.generator
        if self._standing_statistics_step != self._step():
            self.update_standing_statistics()
        return self.ema_generator

    def _step(self):
        """The step counter as a Python int (also for a distributed variable)."""
        return int(keras.ops.convert_to_numpy(self.train_steps))

    def update_standing_statistics(self):
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
        layers = _batch_norm_layers(self.ema_generator)
        if not layers:
            return
        momenta = [layer.momentum for layer in layers]
        moments = [v for layer in layers for v in (layer.moving_mean, layer.moving_variance)]
        totals = [np.zeros(v.shape) for v in moments]
        trainable = [layer.trainable for layer in layers]
        try:
            for layer in layers:  # moving statistics := those of the batch just seen
                layer.momentum = 0.0
                layer.trainable = True  # a frozen BatchNormalization never updates them
            for i in range(self.standing_statistics_batches):
                latents = keras.random.normal((64, self.latent_dim), seed=i)
                labels = None
                if self.num_classes is not None:
                    labels = keras.random.randint((64,), 0, self.num_classes, seed=i, dtype="int32")
                self._call_generator(self.ema_generator, latents, labels, training=True)
                for total, value in zip(totals, moments, strict=True):
                    total += np.asarray(value, np.float64)
        finally:
            for layer, momentum, was in zip(layers, momenta, trainable, strict=True):
                layer.momentum, layer.trainable = momentum, was
        for variable, total in zip(moments, totals, strict=True):
            variable.assign(total / self.standing_statistics_batches)

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
        `compile` first), the step and non-finite counters, the adaptive strength's p
        and counts (`augment_strength`), the seed-generator states,
        and every other weight of the model (e.g. a regulariser's moving average).

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
        if self.augment_strength is not None:
            items["augment_strength"] = list(self.augment_strength.weights)
        if self.ema_generator is not None:
            items["ema_generator_weights"] = list(self.ema_generator.weights)
        listed = {id(w) for weights in items.values() if isinstance(weights, list) for w in weights}
        listed |= {id(v) for v in self._counters()}
        others = [w for w in self.weights if id(w) not in listed]
        if others:
            items["other_weights"] = others
        items.update({f"random_state_{i}": s for i, s in enumerate(self._random_states())})
        return items

    def save_own_variables(self, store):
        # Adds the seed states so that `save_weights` / `BackupAndRestore` resume exactly.
        super().save_own_variables(store)
        for i, state in enumerate(self._random_states()):
            store[f"random_state_{i}"] = state

    def load_own_variables(self, store):
        self._standing_statistics_step = None
        states = self._random_states()
        own = {k: store[k] for k in store.keys() if not k.startswith("random_state_")}
        super().load_own_variables(own)
        for i, state in enumerate(states):
            key = f"random_state_{i}"
            if key in store:
                state.assign(store[key])
