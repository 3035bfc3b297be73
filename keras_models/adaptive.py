"""Adaptive augmentation strength (ADA): the probability p of the augmentations follows
D's overfitting.

Karras et al. (2020, "Training Generative Adversarial Networks with Limited Data") steer
the probability p of their augmentations with the overfitting heuristic
r_t = E[sign(D(x_real))] on the (augmented) reals D is trained on: when D is sure of the
reals (r_t above a target, 0.6), p goes up, otherwise down, by a fixed step per
adjustment. `tf_diffaug.adjust_strength` is that controller as a pure function of
any Keras backend;
`AdaptiveStrength` holds p and the counts, and decides when to count and when to adjust;
`keras_models.GAN(..., augment_strength=AdaptiveStrength())` drives DiffAugment's
per-sample probability with it, for reals and fakes, in D and G steps.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import tensorflow as tf

from keras_models.layers.state import scalar_state
from tf_diffaug.adaptive import adjust_strength

__all__ = ["AdaptiveStrength", "adjust_strength"]


@keras.saving.register_keras_serializable(package="keras_models")
class AdaptiveStrength(keras.layers.Layer):
    """ADA's controller of the augmentation probability p, for `keras_models.GAN`.

    ```python
    gan = keras_models.GAN(generator, discriminator, latent_dim=128,
                           augment=tf_diffaug.DiffAugment("color,translation,cutout"),
                           augment_strength=keras_models.AdaptiveStrength(target=0.6))
    gan.fit(...)          # logs augment_p and r_t
    ```

    The GAN hands this layer D's logits on the reals of every D step (after
    augmentation, as ADA), and it counts their signs, summed over all replicas
    (`count_reals`). At the end of every `interval`-th train step (`end_step`)

        r_t = (sum of signs) / (number of reals counted)
        p  <- clip(p + sign(r_t - target) * n / (speed_kimg * 1000), 0, 1)

    (`adjust_strength`) and the counts restart. n is the number of reals counted in the
    interval, i.e. the real images shown to D: `global_batch * d_steps_per_g_step *
    interval` (a train step shows D one global batch per D step). So, as ADA's
    `ada_kimg`, `speed_kimg` is the number of thousands of real images shown to D in
    which p can go from 0 to 1, whatever the number of D steps per train step. A D step
    skipped as non-finite counts nothing, and an interval that counted nothing leaves p
    as it is. p is passed to every `augment` call as `probability=p` (`augment`).

    p, the running counts and the last r_t are non-trainable weights of this layer, and so
    of the GAN: they are in `GAN.checkpoint_items()` and `save_weights`, and a resumed
    run follows the same p path. Under a `tf.distribute` strategy they are updated with
    replica-summed values, identically on every replica.

    Args:
        target: the r_t that p is steered toward, in [-1, 1] (ADA: 0.6).
        speed_kimg: thousands of real images shown to D in which p can move from 0 to 1
            (ADA: 500, for runs of many thousands of kimg; scale it with the run).
        interval: train steps between adjustments (ADA: 4).
        initial: p at the start, in [0, 1].
        **kwargs: base `keras.layers.Layer` arguments (name, ...).
    """

    def __init__(
        self,
        target: float = 0.6,
        speed_kimg: float = 500,
        interval: int = 4,
        initial: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        checks = {
            "target": (target, -1.0 <= target <= 1.0, "in [-1, 1]"),
            "speed_kimg": (speed_kimg, speed_kimg > 0, "> 0"),
            "interval": (interval, int(interval) == interval >= 1, "an integer >= 1"),
            "initial": (initial, 0.0 <= initial <= 1.0, "in [0, 1]"),
        }
        for name, (value, valid, expected) in checks.items():
            if not valid:
                raise ValueError(f"Expected `{name}` {expected}. Received: {name}={value!r}")
        self.target = float(target)
        self.speed_kimg = float(speed_kimg)
        self.interval = int(interval)
        self.initial = float(initial)

    def build(self, input_shape: Any = None) -> None:
        """Creates the state (called by `GAN`, inside its strategy scope)."""
        self.p = scalar_state(self, "p", self.initial)
        self.sign_sum = scalar_state(self, "sign_sum", 0.0)  # over the current interval
        self.count = scalar_state(self, "count", 0.0)  # reals whose signs are in sign_sum
        self.r_t = scalar_state(self, "r_t", 0.0)  # of the last adjustment (logged)

    def check_drives(self, augment: keras.layers.Layer, augment_mode: str) -> None:
        """Checks that this strength can drive `augment` (see `augment`).

        Args:
            augment: the GAN's augmentation layer.
            augment_mode: the GAN's `augment_mode` ("none" augments no input of D).

        Raises:
            ValueError: when nothing is augmented, or `augment.call` takes no
                `probability` keyword.
        """
        if augment_mode == "none":
            raise ValueError(
                "An `augment_strength` drives the augmentation of D's inputs, and "
                "augment_mode='none' augments none. Received: augment_mode='none'"
            )
        signature = inspect.signature(augment.call)
        if "probability" not in signature.parameters:
            raise ValueError(
                "Expected an `augment` layer whose `call` takes a `probability` keyword "
                "(as tf_diffaug.DiffAugment does), which `augment_strength` sets. Received: "
                f"{type(augment).__name__}.call{signature}"
            )

    def augment(self, layer: keras.layers.Layer, images: tf.Tensor) -> tf.Tensor:
        """`layer(images, training=True, probability=p)`, p a float32 scalar tensor."""
        return layer(images, training=True, probability=self.p.value)

    def count_reals(self, real_logits: tf.Tensor, finite: tf.Tensor) -> list[tuple[Any, Any]]:
        """`(variable, value)` pairs that add the signs of D's logits on one D step's
        reals, summed over replicas, to the counts; a skipped step (`finite` false) adds
        nothing. Called in the replica context of the D step.

        Args:
            real_logits: float32 (B,) logits of this replica's reals.
            finite: bool scalar, equal on every replica: whether the D step was applied.
        """
        local = tf.stack(
            [tf.reduce_sum(tf.sign(real_logits)), tf.cast(tf.size(real_logits), tf.float32)]
        )
        total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, local)
        total = tf.where(finite, total, tf.zeros_like(total))
        return [(self.sign_sum, self.sign_sum + total[0]), (self.count, self.count + total[1])]

    def end_step(self, completed_steps: tf.Tensor) -> list[tuple[Any, Any]]:
        """`(variable, value)` pairs of the end of a train step: when `completed_steps`
        (this step included) is a multiple of `interval`, the adjustment of p and r_t and
        the reset of the counts; the same values otherwise."""
        due = tf.equal(completed_steps % self.interval, 0)
        counted = self.count > 0
        r_t = self.sign_sum / tf.maximum(self.count, 1.0)
        p = adjust_strength(
            self.p.value, r_t, self.count.value, target=self.target, speed_kimg=self.speed_kimg
        )
        return [
            (self.p, tf.where(due, p, self.p)),
            (self.r_t, tf.where(due & counted, r_t, self.r_t)),
            (self.sign_sum, tf.where(due, 0.0, self.sign_sum)),
            (self.count, tf.where(due, 0.0, self.count)),
        ]

    def logs(self) -> dict[str, tf.Tensor]:
        """`{"augment_p": p, "r_t": r_t}` as float32 scalar tensors."""
        return {"augment_p": tf.identity(self.p.value), "r_t": tf.identity(self.r_t.value)}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            target=self.target,
            speed_kimg=self.speed_kimg,
            interval=self.interval,
            initial=self.initial,
        )
        return config
