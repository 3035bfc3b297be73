"""`GAN`: the model, its construction, the routing of D's inputs through the
augmentation, and the train and test steps.

The model owns the decisions the DiffAugment paper is about: which images are
augmented, in which step, with gradients through the augmentation. Every input of the
discriminator is augmented according to `augment_mode`, in one place (`GAN._augment`),
and D runs in one place (`GAN._run_discriminator`, reached through `GAN.discriminate`
and the D step):

| augment_mode         | D step: reals | D step: fakes | G step: fakes |
|----------------------|---------------|---------------|---------------|
| `diffaugment`        | T             | T             | T (grads through T) |
| `discriminator_only` | T             | T             | -             |
| `reals_only`         | T             | -             | -             |
| `none`               | -             | -             | -             |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

import tf_diffaug
from keras_models import losses as gan_losses
from keras_models.adaptive import AdaptiveStrength
from keras_models.backbone import freeze_blocks
from keras_models.conditioning import pack
from keras_models.gan import batches, guard
from keras_models.gan.checkpoint import CheckpointState
from keras_models.gan.distribution import all_steps, assign_on_replicas, no_merge_calls
from keras_models.gan.ema import EMAGenerator
from keras_models.gan.export import GeneratorExport
from keras_models.gan.logs import StepLogs
from keras_models.gan.validation import (
    CheckedFit,
    check_arguments,
    check_logits,
    discriminator_interface_checked,
)
from keras_models.lecam import LeCamRegularizer

# Which discriminator calls are augmented, per `augment_mode` (the table above). Roles:
# "d_real"/"d_fake" are the reals/fakes of the D step, "g_fake" the fakes of the G step.
# Two more roles are used by consistency regularisation and evaluation: "clean" is never
# augmented and "consistency" always is.
AUGMENTED_ROLES = {
    "diffaugment": frozenset({"d_real", "d_fake", "g_fake"}),
    "discriminator_only": frozenset({"d_real", "d_fake"}),
    "reals_only": frozenset({"d_real"}),
    "none": frozenset(),
}


class GAN(CheckedFit, StepLogs, CheckpointState, GeneratorExport, EMAGenerator, keras.Model):
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

    Backbones are called with `training=`: `generator(latents)` (latents float
    (B, latent_dim)) and `discriminator(images)`; when conditional (`num_classes` set),
    `generator([latents, labels])` and `discriminator([images, labels])`, labels int32
    (B,), and the dataset yields `(images, labels)` (integer class ids, not one-hot).
    Generators return NHWC images in [-1, 1], the range the dataset's images must have
    too; discriminators (B, 1) or (B,) logits. Input outside these is named before any
    step (`keras_models.gan.validation`).

    A `train_step` is `d_steps_per_g_step` D updates, each on its equal part of the
    dataset batch (batch the dataset by `batch_size * d_steps_per_g_step`), then one G
    update and the EMA update. `fit` logs `d_loss`, `g_loss`, `d_real_logits`,
    `d_fake_logits`, `d_real_accuracy` (D's sign accuracy on reals, the overfitting
    signal), `nonfinite_steps`, and `r1`, `consistency`, `lecam`, `augment_p`, `r_t` when
    enabled.
    Build and compile inside `strategy.scope()` to distribute: N replicas give the step
    of one device on the same global batch. A non-finite update changes no variable
    (`keras_models.gan.guard`); `checkpoint_items()` and `save_weights` resume exactly.

    Args:
        generator: Keras model, latents (and labels) -> images.
        discriminator: Keras model, images (and labels) -> logits.
        latent_dim: size of the latent vectors, an int >= 1.
        augment: a Keras layer called as `augment(images, training=True)`; None uses
            `tf_diffaug.DiffAugment("color,translation,cutout")`.
        augment_mode: "diffaugment", "discriminator_only", "reals_only" or "none": which
            inputs of D are augmented (the paper's ablation, see `discriminate`).
        augment_strength: None (`augment` as configured), or a
            `keras_models.AdaptiveStrength` whose p every `augment` call gets as
            `probability=p` (not `consistency_augment`'s).
        loss: "hinge", "non_saturating" or "wasserstein" (see `keras_models.losses`).
        r1_gamma: weight of the R1 penalty `r1_gamma / 2 * |dD/dx|^2`; 0 disables it.
        r1_interval: lazy R1 (StyleGAN2): added every `r1_interval` steps, multiplied
            by `r1_interval`.
        r1_inputs: R1's gradient with respect to "augmented" (T(x), the images D sees:
            the authors' `ns_r1_DiffAugment`) or "reals" (x, through T:
            `ns_DiffAugment_r1`).
        consistency_weight: weight of the consistency penalty on reals (CR-GAN); 0
            disables it.
        consistency_augment: None for `|D(x) - D(T(x))|^2`, or a layer T' for
            `|D(T'(T(x))) - D(T(x))|^2` (the authors' BigGAN `--CR_augment`).
        lecam: None, or a `keras_models.LeCamRegularizer` whose penalty (on the D
            step's augmented real and fake logits, against moving-average anchors) is
            added to D's loss with its weight.
        ema_decay: decay of the generator's moving average that `generate` and
            `export_generator` use; None disables the EMA copy.
        ema_start_step: before this step the EMA copy just follows the generator.
        d_steps_per_g_step: discriminator updates per generator update.
        num_classes: number of classes for a class-conditional GAN, or None.
        fake_labels: "random" (uniform labels for the fakes of every D and G step, as the
            authors' BigGAN code) or "reals" (those of the same D step's reals).
        joint_discriminator_pass: score reals and fakes of a D step in one D call
            (BigGAN's `G_D`, see `_run_discriminator`); None reads the discriminator's
            `joint_discriminator_pass` attribute (False when it has none).
        standing_statistics_batches: batches of 64 latents averaged for the EMA
            generator's batch-norm statistics (see `update_standing_statistics`).
        g_regularizer: optional `fn(gan, latents, labels, images) -> (B,)` penalty added
            per sample to the G loss inside the G step's tape (e.g. StyleGAN2's path
            length); may read `gan.train_steps`.
        frozen_discriminator_blocks: FreezeD for fine-tuning: the first this many blocks
            of D from the image side stay exactly as they are (see
            `keras_models.backbone.freeze_blocks`); 0 trains every block.
        seed: int seed of the latent draws, or None.
        **kwargs: base `keras.Model` arguments (name, ...).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        latent_dim: int,
        augment: keras.layers.Layer | None = None,
        augment_mode: str = "diffaugment",
        augment_strength: AdaptiveStrength | None = None,
        loss: str = "hinge",
        r1_gamma: float = 0.0,
        r1_interval: int = 1,
        r1_inputs: str = "augmented",
        consistency_weight: float = 0.0,
        consistency_augment: keras.layers.Layer | None = None,
        lecam: LeCamRegularizer | None = None,
        ema_decay: float | None = 0.999,
        ema_start_step: int = 0,
        d_steps_per_g_step: int = 1,
        num_classes: int | None = None,
        fake_labels: str = "random",
        joint_discriminator_pass: bool | None = None,
        standing_statistics_batches: int = 16,
        g_regularizer: Callable[..., tf.Tensor] | None = None,
        frozen_discriminator_blocks: int = 0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_arguments(
            latent_dim=latent_dim,
            augment_mode=augment_mode,
            augment_modes=AUGMENTED_ROLES,
            r1_inputs=r1_inputs,
            fake_labels=fake_labels,
            r1_interval=r1_interval,
            d_steps_per_g_step=d_steps_per_g_step,
            standing_statistics_batches=standing_statistics_batches,
            ema_decay=ema_decay,
        )
        self.d_loss_fn, self.g_loss_fn = gan_losses.get(loss)
        self.generator = generator
        self.discriminator = discriminator
        self.augment = augment if augment is not None else tf_diffaug.DiffAugment()
        if augment_strength is not None:
            if not isinstance(augment_strength, AdaptiveStrength):
                raise ValueError(
                    "Expected `augment_strength` to be a keras_models.AdaptiveStrength or "
                    f"None. Received: augment_strength={augment_strength!r}"
                )
            augment_strength.check_drives(self.augment, augment_mode)
        self.augment_strength = augment_strength
        if lecam is not None and not isinstance(lecam, LeCamRegularizer):
            raise ValueError(
                "Expected `lecam` to be a keras_models.LeCamRegularizer or None. "
                f"Received: lecam={lecam!r}"
            )
        self.lecam = lecam
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

        self._make_trackers(
            r1=bool(self.r1_gamma),
            consistency=bool(self.consistency_weight),
            lecam=self.lecam is not None,
        )

    # --- construction ---------------------------------------------------------------

    def _build_networks(self) -> None:
        """Creates every weight now, so that optimizers, checkpoints and the EMA copy
        can be set up before the first step."""
        latents = tf.zeros((1, self.latent_dim))
        labels = tf.zeros((1,), tf.int32)
        images = self._call_generator(self.generator, latents, labels, training=False)
        with discriminator_interface_checked(images):
            self.discriminate(images, labels, role="clean", training=False)
        for layer in (self.augment, self.consistency_augment):
            if layer is not None and not layer.built:
                layer.build(images.shape)
        for state in (self.augment_strength, self.lecam):
            if state is not None and not state.built:
                state.build()
        self.built = True

    def compile(
        self,
        d_optimizer: keras.optimizers.Optimizer,
        g_optimizer: keras.optimizers.Optimizer,
        jit_compile: bool | str = "auto",
        **kwargs: Any,
    ) -> None:
        """Sets the two optimizers; other arguments go to `keras.Model.compile`.

        Call inside `strategy.scope()` when distributing. Under a `mixed_float16` policy
        of a network its optimizer is wrapped in a `keras.optimizers.LossScaleOptimizer`
        (`mixed_bfloat16` needs none); logits and losses stay float32.

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

    # --- the two networks -----------------------------------------------------------

    def _call_generator(self, generator, latents, labels, training):
        labels = None if self.num_classes is None else labels
        return generator(pack(latents, labels), training=training)

    def _augment(self, images, role, training=True):
        """The one place where D's inputs are augmented: `augment` when `role` is
        augmented under `augment_mode` (see the module docstring; "consistency" is always
        augmented, "clean" never), driven by `augment_strength` when there is one."""
        if not training or role not in self._augmented_roles:
            return images
        if self.augment_strength is None:
            return self.augment(images, training=True)
        return self.augment_strength.augment(self.augment, images)

    def _run_discriminator(self, images, labels, training):
        """The one place where D runs: on each batch of the list `images` (with the
        matching entry of `labels`). Returns float32 (B_i,) logits per batch.

        With `joint_discriminator_pass`, the batches are scored in one call on their
        concatenation, as BigGAN's `G_D` does: one spectral-norm power iteration per D
        step, and reals and fakes scored with the same weights. A discriminator that
        mixes the samples of a batch (StyleGAN2's minibatch standard deviation) must run
        on each separately, as StyleGAN2 does.
        """

        def call(x, y):
            logits = self.discriminator(pack(x, y), training=training)
            check_logits(logits, x)
            return tf.reshape(tf.cast(logits, tf.float32), [-1])

        if self.num_classes is None:
            labels = [None] * len(images)
        if not self.joint_discriminator_pass or len(images) == 1:
            return [call(x, y) for x, y in zip(images, labels, strict=True)]
        sizes = tf.stack([tf.shape(x)[0] for x in images])
        joint = tf.concat([tf.cast(x, images[0].dtype) for x in images], 0)
        return tf.split(call(joint, None if labels[0] is None else tf.concat(labels, 0)), sizes)

    def discriminate(
        self,
        images: tf.Tensor,
        labels: tf.Tensor | None = None,
        *,
        role: str,
        training: bool = True,
        tape: tf.GradientTape | None = None,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Runs the discriminator on one batch, augmented as `role` says.

        Args:
            images: NHWC batch.
            labels: int (B,) class indices when conditional.
            role: "d_real", "d_fake" or "g_fake" (augmented as `augment_mode` says, see
                the module docstring), "clean" (never augmented) or "consistency"
                (always augmented).
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

    # --- training -------------------------------------------------------------------

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
            lecam, lecam_state = None, []
            if self.lecam is not None:
                # The anchors move with this D step's batch before the penalty (lecam-gan).
                anchor_real, anchor_fake, lecam_state = self.lecam.update(
                    real_logits, fake_logits, self.train_steps
                )
                lecam, lecam_active = self.lecam.penalty(
                    real_logits, fake_logits, anchor_real, anchor_fake, self.train_steps
                )
                total += self.lecam.weight * lecam
            # Per-sample losses divided by the global batch: N replicas = one device.
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
            "lecam": lecam,
        }
        if self.lecam is not None:
            logs.update(lecam_state=lecam_state, lecam_active=lecam_active)
        return loss, grads, logs

    def _fake_labels(self, local_batch, real_labels):
        """Fake labels of a D or G step (`fake_labels`), from the training stream."""
        return batches.fake_labels(
            local_batch,
            real_labels,
            num_classes=self.num_classes,
            mode=self.fake_labels,
            seed=self.seed_generator,
        )

    def _discriminator_step(self, reals, labels):
        before = guard.snapshot(self._forward_state())
        local_batch = tf.shape(reals)[0]
        fake_labels = self._fake_labels(local_batch, labels)  # drawn before the latents
        latents = batches.latents(local_batch, self.latent_dim, self.seed_generator)
        fakes = self._call_generator(self.generator, latents, fake_labels, training=True)
        fakes = tf.stop_gradient(fakes)
        r1_due = True
        if self.r1_interval > 1:
            r1_due = tf.equal(self.train_steps % self.r1_interval, 0)
        loss, grads, logs = self._discriminator_gradients(reals, fakes, labels, fake_labels, r1_due)
        variables = self.discriminator.trainable_variables
        finite = guard.apply_if_finite(loss, grads, self.d_optimizer, variables, before)
        for name in ("d_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"):
            self._track(name, logs[name], finite)
        if self.augment_strength is not None:
            assign_on_replicas(self.augment_strength.count_reals(logs["d_real_logits"], finite))
        if self.r1_gamma:
            self._track("r1", logs["r1"], finite, tf.cast(r1_due, tf.float32))
        if self.consistency_weight:
            self._track("consistency", logs["consistency"], finite)
        if self.lecam is not None:
            # The anchors move only with an applied D step (counters: never restored).
            assign_on_replicas([(v, tf.where(finite, x, v)) for v, x in logs["lecam_state"]])
            self._track("lecam", logs["lecam"], finite, tf.cast(logs["lecam_active"], tf.float32))
        return finite

    def _generator_step(self, local_batch, real_labels):
        before = guard.snapshot(self._forward_state())
        variables = self.generator.trainable_variables
        latents = batches.latents(local_batch, self.latent_dim, self.seed_generator)
        labels = self._fake_labels(local_batch, real_labels)  # drawn after the latents
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
        finite = guard.apply_if_finite(loss, grads, self.g_optimizer, variables, before)
        self._track("g_loss", adversarial, finite)
        return finite

    def _d_steps_in_a_loop(self):
        """Whether the D steps run in a `tf.while_loop`, so that the D step is traced and
        optimised once however many there are: in graph mode where the strategy allows
        updates inside a loop (no merge calls). They are unrolled under merge-call
        strategies (MirroredStrategy on CPU), since a merge call may not sit inside a
        loop, and under XLA, whose CPU backend ran the loop 70 times slower than the
        unrolled steps (`benchmarks/biggan_bench.py`)."""
        return no_merge_calls() and not self.jit_compile

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """D steps, the G step and the EMA update on one dataset batch.

        Randomness comes from `keras.random.SeedGenerator`s (no Python or NumPy state),
        so the step compiles with XLA and resumes exactly. Fake labels are drawn for
        every D and G step (`fake_labels`); the G step uses the labels of the last D
        step's reals where it takes the reals' labels.

        Returns:
            The logs (see the class docstring).
        """
        images, labels = batches.unpack(data, self.num_classes)
        part, local_batch = batches.split_batch(images, labels, self.d_steps_per_g_step)
        d_step = lambda i: self._discriminator_step(*part(i))
        all_finite = all_steps(d_step, self.d_steps_per_g_step, self._d_steps_in_a_loop())
        g_finite = self._generator_step(local_batch, part(self.d_steps_per_g_step - 1)[1])
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
            assignments += self.augment_strength.end_step(self.train_steps + 1)
        assign_on_replicas(assignments)
        extra = {} if self.augment_strength is None else self.augment_strength.logs()
        return self._metric_results(extra)

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Losses, logits and D's accuracy on un-augmented reals and fakes of G."""
        reals, labels = batches.unpack(data, self.num_classes)
        # The sampling stream: evaluation must not shift the training stream (exact resume).
        latents = batches.latents(tf.shape(reals)[0], self.latent_dim, self.sample_seed_generator)
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
