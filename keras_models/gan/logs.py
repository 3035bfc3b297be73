"""The GAN's logs: the trackers that `fit` and `evaluate` report, and how a step
updates them.

Losses and logits are averaged per sample (`keras.metrics.Mean`); an update skipped by
the non-finite guard counts for nothing, and `nonfinite_steps` sums the skipped train
steps. Keras averages the results over replicas.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from keras_models.gan import _tf_private

# Logged by every GAN; "r1", "consistency" and "lecam" are added when those penalties
# are on.
LOGGED = ("d_loss", "g_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy")


class StepLogs:
    """Trackers of `keras_models.GAN` (a mixin: they live in the GAN's `_trackers`)."""

    def _make_trackers(self, r1: bool, consistency: bool, lecam: bool = False) -> None:
        mean = lambda name: keras.metrics.Mean(name=name)
        self._trackers = {name: mean(name) for name in LOGGED}
        if r1:
            self._trackers["r1"] = mean("r1")
        if consistency:
            self._trackers["consistency"] = mean("consistency")
        if lecam:
            self._trackers["lecam"] = mean("lecam")
        self._trackers["nonfinite_steps"] = keras.metrics.Sum(name="nonfinite_steps")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """The trackers that `fit` and `evaluate` log."""
        return list(self._trackers.values())

    def _track(self, name, values, finite, weight=1.0):
        """Updates a Mean tracker with per-sample values; skipped steps count for nothing."""
        weight = tf.cast(finite, tf.float32) * weight
        values = tf.where(finite, values, tf.zeros_like(values))
        self._trackers[name].update_state(values, sample_weight=weight * tf.ones_like(values))

    def _metric_results(self, extra: dict[str, Any] | None = None) -> dict[str, tf.Tensor]:
        """The trackers' results, and `extra` logs (e.g. the current `augment_p`)."""
        results = {**{m.name: m.result() for m in self.metrics}, **(extra or {})}
        if _tf_private.in_multi_worker_mode(self.distribute_strategy):
            # Keras 3 reduces each log across workers with `reduce(MEAN, axis=0)`, which
            # fails on scalars (tensorflow/tensorflow#72388); a (1,) log reduces to a scalar.
            results = {name: tf.reshape(value, (1,)) for name, value in results.items()}
        return results
