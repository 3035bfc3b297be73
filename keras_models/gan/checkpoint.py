"""The GAN's checkpoint state: everything an exact resume needs, for TensorFlow
checkpoints (`checkpoint_items`) and Keras weight files (`save_weights`,
`keras.callbacks.BackupAndRestore`).

Besides the weights, an exact resume needs both optimizers, the step and non-finite
counters, the adaptive strength's p and counts, the LeCam anchors, and the states of
every seed generator (the GAN's latent and sampling streams, the augmentation's, noise
or dropout in G and D), which Keras weight files do not include by themselves. This
module also says which of the model's variables are counters and which are forward state
(what the non-finite guard restores).
"""

from __future__ import annotations

from typing import Any

import keras


class CheckpointState:
    """Checkpoint state of `keras_models.GAN` (a mixin: it reads the GAN's networks,
    optimizers, counters, `augment_strength` and `lecam`)."""

    def _counters(self) -> list[keras.Variable]:
        """The model's own counters: checkpointed, and never restored by a skipped step."""
        strength = [] if self.augment_strength is None else self.augment_strength.weights
        anchors = [] if self.lecam is None else self.lecam.weights
        return [self.train_steps, self.nonfinite_streak, *strength, *anchors]

    def _forward_state(self) -> list[keras.Variable]:
        """Variables that forward passes update, which the non-finite guard restores: the
        networks' non-trainable weights (batch-norm statistics, spectral-norm vectors)
        and other state of the model (e.g. a regulariser's moving average), not the
        counters nor the EMA copy."""
        skip = {id(v) for v in self._counters()}
        if self.ema_generator is not None:
            skip |= {id(v) for v in self.ema_generator.weights}
        return [v for v in self.non_trainable_weights if id(v) not in skip]

    def _random_states(self) -> list[keras.Variable]:
        """The seed-generator states of the GAN and of every layer in it (augment, and
        e.g. noise or dropout in G and D), which Keras weight files do not include."""
        weights = {id(w) for w in self.weights}
        return [v for v in self.variables if id(v) not in weights]

    def checkpoint_items(self) -> dict[str, Any]:
        """Everything a resume needs, for `tf.train.Checkpoint(**gan.checkpoint_items())`.

        Every weight of both networks and of the EMA generator, both optimizers (call
        `compile` first), the step and non-finite counters, the adaptive strength's p
        and counts (`augment_strength`), the LeCam anchors (`lecam`), the seed-generator
        states, and every other
        weight of the model (e.g. a regulariser's moving average).

        Weights are listed explicitly, by position: TensorFlow's checkpoint graph does not
        descend into Keras 3 layers held in Python lists (e.g. a backbone's blocks), so
        saving the networks as objects would silently drop those layers' non-trainable
        state (batch-norm statistics, spectral-norm vectors).

        Returns:
            A dict of checkpointable objects and lists of variables, by name.
        """
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
        if self.lecam is not None:
            items["lecam"] = list(self.lecam.weights)
        if self.ema_generator is not None:
            items["ema_generator_weights"] = list(self.ema_generator.weights)
        listed = {id(w) for weights in items.values() if isinstance(weights, list) for w in weights}
        listed |= {id(v) for v in self._counters()}
        others = [w for w in self.weights if id(w) not in listed]
        if others:
            items["other_weights"] = others
        items.update({f"random_state_{i}": s for i, s in enumerate(self._random_states())})
        return items

    def save_own_variables(self, store: Any) -> None:
        """Keras's weights, and the seed states, so that `save_weights` and
        `BackupAndRestore` resume exactly."""
        super().save_own_variables(store)
        for i, state in enumerate(self._random_states()):
            store[f"random_state_{i}"] = state

    def load_own_variables(self, store: Any) -> None:
        """Reads what `save_own_variables` wrote (files without seed states load too)."""
        self._standing_statistics_step = None  # new EMA weights: recompute before sampling
        states = self._random_states()
        own = {k: store[k] for k in store.keys() if not k.startswith("random_state_")}
        super().load_own_variables(own)
        for i, state in enumerate(states):
            key = f"random_state_{i}"
            if key in store:
                state.assign(store[key])
