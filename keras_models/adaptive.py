"""`AdaptiveStrength`: an augmentation probability that follows D's overfitting (ADA).

Karras et al. (2020, "Training Generative Adversarial Networks with Limited Data") steer
the probability p of their augmentations with the overfitting heuristic
r_t = E[sign(D(x_real))] on the (augmented) reals D is trained on: when D is sure of the
reals (r_t above a target, 0.6), p goes up, otherwise down, by a fixed step per
adjustment. `keras_models.GAN(..., augment_strength=AdaptiveStrength())` drives
DiffAugment's per-sample probability this way, for reals and fakes, in D and G steps.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_models")
class AdaptiveStrength(keras.layers.Layer):
    """ADA's controller of the augmentation probability p, for `keras_models.GAN`.

    ```python
    gan = keras_models.GAN(generator, discriminator, latent_dim=128,
                           augment=tf_diffaug.DiffAugment("color,translation,cutout"),
                           augment_strength=keras_models.AdaptiveStrength(target=0.6))
    gan.fit(...)          # logs augment_p and r_t
    ```

    The GAN counts the signs of D's logits on the reals of every D step (after
    augmentation, as ADA), summed over all replicas. Every `interval` train steps

        r_t = (sum of signs) / (number of reals counted)
        p  <- clip(p + sign(r_t - target) * n / (speed_kimg * 1000), 0, 1)

    and the counts restart. n is the number of reals counted in the interval, i.e. the
    real images shown to D: `global_batch * d_steps_per_g_step * interval` (a train step
    shows D one global batch per D step). So, as ADA's `ada_kimg`, `speed_kimg` is the
    number of thousands of real images shown to D in which p can go from 0 to 1,
    whatever the number of D steps per train step. A D step skipped as non-finite counts
    nothing, and an interval that counted nothing leaves p as it is.

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

    def __init__(self, target=0.6, speed_kimg=500, interval=4, initial=0.0, **kwargs):
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

    def build(self, input_shape=None):
        """Creates the state (called by `GAN`, inside its strategy scope)."""
        scalar = lambda name, value: self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(value),
            dtype="float32",
            trainable=False,
            autocast=False,
            name=name,
        )
        self.p = scalar("p", self.initial)
        self.sign_sum = scalar("sign_sum", 0.0)  # over the current interval
        self.count = scalar("count", 0.0)  # reals whose signs are in sign_sum
        self.r_t = scalar("r_t", 0.0)  # of the last adjustment (logged)

    def accumulate(self, sign_sum, count):
        """`(variable, value)` pairs that add replica-summed sign totals of one D step."""
        return [(self.sign_sum, self.sign_sum + sign_sum), (self.count, self.count + count)]

    def adjust(self, due):
        """`(variable, value)` pairs of the end of a train step: the adjustment of p and
        the reset of the counts where `due` (a bool scalar), the same values otherwise."""
        counted = self.count > 0
        r_t = self.sign_sum / tf.maximum(self.count, 1.0)
        # A product with the float32 reciprocal: graph optimisers may turn a division by
        # a constant into one, so this is the same arithmetic everywhere.
        rate = tf.constant(1.0 / (self.speed_kimg * 1000.0), tf.float32)
        step = tf.sign(r_t - self.target) * (self.count * rate)
        adjusted = due & counted
        return [
            (self.p, tf.where(adjusted, tf.clip_by_value(self.p + step, 0.0, 1.0), self.p)),
            (self.r_t, tf.where(adjusted, r_t, self.r_t)),
            (self.sign_sum, tf.where(due, 0.0, self.sign_sum)),
            (self.count, tf.where(due, 0.0, self.count)),
        ]

    def logs(self):
        """`{"augment_p": p, "r_t": r_t}` as float32 scalar tensors."""
        return {"augment_p": tf.identity(self.p.value), "r_t": tf.identity(self.r_t.value)}

    def get_config(self):
        config = super().get_config()
        config.update(
            target=self.target,
            speed_kimg=self.speed_kimg,
            interval=self.interval,
            initial=self.initial,
        )
        return config
