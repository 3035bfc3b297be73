"""LeCam regularisation of the discriminator (Tseng et al., CVPR 2021, "Regularizing
Generative Adversarial Networks under Limited Data"), as google/lecam-gan implements it.

D's loss gets

    weight * ( mean_i relu(D(x_i) - a_fake)^2 + mean_j relu(a_real - D(G(z_j)))^2 )

where the anchors a_real and a_fake are moving averages of D's mean logit on the reals
and on the fakes of the D steps. The pure functions (`update_anchor`,
`debiased_update`, `lecam_penalty`) are the formulas, on any Keras backend;
`LeCamRegularizer` holds the anchors and decides, per D step, the decay and whether the
penalty is on; `keras_models.GAN(..., lecam=LeCamRegularizer(0.3))` adds it to D's loss.

Where each detail comes from in google/lecam-gan:

- the penalty: `biggan_cifar/losses.py` `lecam_reg` (and `stylegan2/lecam_loss.py`
  `lecamreg`, the same two terms);
- the anchors: `third_party/utils.py` `ema_losses` (init 1000, decay 0.9,
  `update`: `ema * decay + cur * (1 - decay)` with decay 0 while `itr < start_itr`),
  updated with the means of D's outputs on the current batch in
  `biggan_cifar/losses.py` `loss_hinge_dis` (`torch.mean(dis_real).item()`, detached);
- the order: `third_party/train_fns.py` `GAN_training_function` computes
  `discriminator_loss` (which updates the anchors) before `lecam_reg`, in every D step,
  and adds the penalty only when `state_dict['itr'] > ema_losses.start_itr`; itr is the
  0-based count of completed iterations (one iteration: `num_D_steps` D steps and a G
  step), our `GAN.train_steps` during a step;
- start 1000: `biggan_cifar/train.py` `main` (`utils.ema_losses(start_itr=1000)`);
- weight 0.3: `--LC 0.3` in every `biggan_cifar/scripts/lc-*.sh`;
- the StyleGAN2(-ADA) variant: `stylegan2/lecam_loss.py` `lecamreg`, anchors from
  `moving_averages.assign_moving_average(..., decay=0.99, zero_debias=True)` on
  zero-initialised variables, updated before the penalty, no start step; weights
  `LECAM=1e-6` in `stylegan2/scripts/run_train_cifar.sh` (CIFAR-10 10%, `--aug ada`) and
  `3e-7` in `run_train_ffhq.sh` (FFHQ-1k).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_models.layers.state import scalar_state

__all__ = ["LeCamRegularizer", "debiased_update", "lecam_penalty", "update_anchor"]


def update_anchor(anchor: Any, batch_mean: Any, decay: Any) -> Any:
    """`anchor * decay + batch_mean * (1 - decay)`: lecam-gan's `ema_losses.update`.

    Args:
        anchor: the moving average so far.
        batch_mean: D's mean logit on this D step's batch (reals or fakes).
        decay: in [0, 1]; 0 makes the anchor the batch mean.
    """
    return anchor * decay + batch_mean * (1.0 - decay)


def debiased_update(
    biased: Any, updates: Any, batch_mean: Any, decay: float
) -> tuple[Any, Any, Any]:
    """One update of TensorFlow's `assign_moving_average(..., zero_debias=True)` (the
    anchors of lecam-gan's StyleGAN2 `lecamreg`), written out:

        biased  <- biased - (biased - batch_mean) * (1 - decay)    (biased starts at 0)
        updates <- updates + 1
        anchor   = biased / (1 - (1 - (1 - decay)) ** updates)

    Args:
        biased: the zero-initialised moving average (float32).
        updates: the number of updates so far (float32, as TensorFlow's `local_step`).
        batch_mean: D's mean logit on this D step's batch.
        decay: a Python float in [0, 1).

    Returns:
        `(anchor, biased, updates)` after this update.
    """
    one_minus_decay = ops.cast(1.0 - decay, "float32")  # TF: convert_to_tensor(1.0 - decay)
    biased = biased - (biased - batch_mean) * one_minus_decay
    updates = updates + 1.0
    return biased / (1.0 - ops.power(1.0 - one_minus_decay, updates)), biased, updates


def lecam_penalty_terms(
    real_logits: Any, fake_logits: Any, anchor_real: Any, anchor_fake: Any
) -> Any:
    """Per-sample `relu(D(x_i) - a_fake)^2 + relu(a_real - D(G(z_i)))^2` (B,), for
    reals and fakes of the same count: their mean is `lecam_penalty`."""
    return ops.square(ops.relu(real_logits - anchor_fake)) + ops.square(
        ops.relu(anchor_real - fake_logits)
    )


def lecam_penalty(real_logits: Any, fake_logits: Any, anchor_real: Any, anchor_fake: Any) -> Any:
    """`mean(relu(D(x) - a_fake)^2) + mean(relu(a_real - D(G(z)))^2)`: lecam-gan's
    `lecam_reg` (biggan_cifar/losses.py).

    Args:
        real_logits: D's logits on the reals (any shape).
        fake_logits: D's logits on the fakes (any shape).
        anchor_real: the moving average of D's mean logit on reals.
        anchor_fake: the moving average of D's mean logit on fakes.
    """
    return ops.mean(ops.square(ops.relu(real_logits - anchor_fake))) + ops.mean(
        ops.square(ops.relu(anchor_real - fake_logits))
    )


@keras.saving.register_keras_serializable(package="keras_models")
class LeCamRegularizer(keras.layers.Layer):
    """LeCam regularisation of D's loss, for `keras_models.GAN(..., lecam=...)`.

    ```python
    gan = keras_models.GAN(generator, discriminator, latent_dim=128,
                           lecam=keras_models.LeCamRegularizer(weight=0.3))
    gan.fit(...)          # logs lecam, the penalty without its weight
    ```

    In every D step, on the same (augmented) real and fake logits as D's loss, first the
    anchors move with this step's batch means, taken over the global batch (summed over
    all replicas, so every replica holds the same anchors):

        a_real <- a_real * d + mean(D(x)) * (1 - d)
        a_fake <- a_fake * d + mean(D(G(z))) * (1 - d)

    with d = 0 while the step (`GAN.train_steps`, counted from 0) is below `start_step`
    and d = `decay` after; then, when the step is above `start_step` (so from step 1
    with `start_step=0`, as the reference), D's loss gets

        weight * (mean(relu(D(x) - a_fake)^2) + mean(relu(a_real - D(G(z)))^2))

    with the anchors of this D step (no gradient through them). This is lecam-gan's
    BigGAN-CIFAR code (`ema_losses(init=1000, decay=0.9, start_itr=1000)`, `--LC 0.3`;
    see the module docstring). With `debias=True` the anchors are TensorFlow's
    zero-debiased moving averages, as lecam-gan's StyleGAN2 code (decay 0.99, no start
    step, weights 1e-6 / 3e-7): `initial` is then unused, `start_step` must be 0 and
    the penalty is on from step 0.

    The anchors (and the debiasing accumulators) are non-trainable weights of this layer,
    and so of the GAN: they are in `GAN.checkpoint_items()` and `save_weights`, and a
    resumed run continues with them. A D step skipped as non-finite leaves them as they
    are.

    Args:
        weight: the penalty's weight (lecam-gan BigGAN-CIFAR: 0.3), > 0.
        decay: the anchors' decay (BigGAN-CIFAR: 0.9; StyleGAN2: 0.99), in [0, 1).
        start_step: steps (train steps, each of `d_steps_per_g_step` D steps) before
            which the anchors follow the batch means (decay 0); the penalty is added from
            the step after it (BigGAN-CIFAR: 1000).
        initial: the anchors before the first update (BigGAN-CIFAR: 1000).
        debias: zero-debiased anchors as `assign_moving_average(zero_debias=True)`
            (lecam-gan's StyleGAN2 `lecamreg`).
        **kwargs: base `keras.layers.Layer` arguments (name, ...).
    """

    def __init__(
        self,
        weight: float = 0.3,
        decay: float = 0.9,
        start_step: int = 1000,
        initial: float = 1000.0,
        debias: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        checks = {
            "weight": (weight, weight > 0, "> 0"),
            "decay": (decay, 0.0 <= decay < 1.0, "in [0, 1)"),
            "start_step": (start_step, int(start_step) == start_step >= 0, "an integer >= 0"),
            "initial": (initial, abs(float(initial)) < float("inf"), "finite"),
            "debias": (debias, isinstance(debias, bool), "a bool"),
        }
        for name, (value, valid, expected) in checks.items():
            if not valid:
                raise ValueError(f"Expected `{name}` {expected}. Received: {name}={value!r}")
        if debias and start_step:
            raise ValueError(
                "Zero-debiased anchors (lecam-gan's StyleGAN2 variant) have no start step. "
                f"Received: debias=True, start_step={start_step!r}"
            )
        self.weight = float(weight)
        self.decay = float(decay)
        self.start_step = int(start_step)
        self.initial = float(initial)
        self.debias = bool(debias)

    def build(self, input_shape: Any = None) -> None:
        """Creates the state (called by `GAN`, inside its strategy scope)."""
        self.anchor_real = scalar_state(self, "anchor_real", self.initial)
        self.anchor_fake = scalar_state(self, "anchor_fake", self.initial)
        if self.debias:  # TensorFlow's `biased` and `local_step` shadow variables
            self.biased_real = scalar_state(self, "biased_real", 0.0)
            self.biased_fake = scalar_state(self, "biased_fake", 0.0)
            self.updates = scalar_state(self, "updates", 0.0)

    def active(self, step: tf.Tensor) -> tf.Tensor:
        """Whether the penalty is added in train step `step` (counted from 0): after
        `start_step` (lecam-gan's BigGAN: `itr > ema_losses.start_itr`, so not in step
        0 even with `start_step=0`); in every step with `debias` (its StyleGAN2
        `lecamreg`)."""
        if self.debias:
            return tf.ones_like(step > 0)
        return step > self.start_step

    def update(
        self, real_logits: tf.Tensor, fake_logits: tf.Tensor, step: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, list[tuple[Any, tf.Tensor]]]:
        """The anchors after this D step's batch, in the replica context of the D step.

        Args:
            real_logits: float32 (B,) logits of this replica's (augmented) reals.
            fake_logits: float32 (B,) logits of this replica's (augmented) fakes.
            step: `GAN.train_steps` (int64 scalar).

        Returns:
            `(anchor_real, anchor_fake, state)`: the anchors (no gradient), and
            `(variable, value)` pairs of the new state, equal on every replica, for the
            GAN to assign when the D step is applied.
        """
        real_logits, fake_logits = tf.stop_gradient(real_logits), tf.stop_gradient(fake_logits)
        size = lambda x: tf.cast(tf.size(x), tf.float32)
        local = tf.stack(
            [
                tf.reduce_sum(real_logits),
                size(real_logits),
                tf.reduce_sum(fake_logits),
                size(fake_logits),
            ]
        )
        total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, local)
        real_mean, fake_mean = total[0] / total[1], total[2] / total[3]
        if self.debias:
            anchor_real, biased_real, updates = debiased_update(
                self.biased_real.value, self.updates.value, real_mean, self.decay
            )
            anchor_fake, biased_fake, _ = debiased_update(
                self.biased_fake.value, self.updates.value, fake_mean, self.decay
            )
            state = [
                (self.biased_real, biased_real),
                (self.biased_fake, biased_fake),
                (self.updates, updates),
            ]
        else:
            decay = tf.where(step < self.start_step, 0.0, self.decay)
            anchor_real = update_anchor(self.anchor_real.value, real_mean, decay)
            anchor_fake = update_anchor(self.anchor_fake.value, fake_mean, decay)
            state = []
        state += [(self.anchor_real, anchor_real), (self.anchor_fake, anchor_fake)]
        return anchor_real, anchor_fake, state

    def penalty(
        self,
        real_logits: tf.Tensor,
        fake_logits: tf.Tensor,
        anchor_real: tf.Tensor,
        anchor_fake: tf.Tensor,
        step: tf.Tensor,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(terms, active)`: the per-sample (B,) penalty terms (`lecam_penalty_terms`,
        zeros when not `active`; their mean over the global batch is `lecam_penalty`)
        and whether the penalty is on in this step."""
        active = self.active(step)
        terms = lecam_penalty_terms(real_logits, fake_logits, anchor_real, anchor_fake)
        return tf.where(active, terms, tf.zeros_like(terms)), active

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            weight=self.weight,
            decay=self.decay,
            start_step=self.start_step,
            initial=self.initial,
            debias=self.debias,
        )
        return config
