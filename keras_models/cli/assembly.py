"""Which callbacks a training run gets, in which order, and with what settings.

`run_callbacks` assembles them from the run's config, data and run directory: progress,
the stop and checkpoint schedule, TensorBoard, sample grids, the metric evaluator (with
the paper's reference statistics when Inception-style metrics are asked for), the
overfitting monitor (when images are held out), the non-finite guard and the
nearest-neighbour report.
"""

import dataclasses
import os
import signal

import keras
import numpy as np
import tensorflow as tf

from keras_models import callbacks, data, metrics
from keras_models.conditioning import pack
from keras_models.config import TrainConfig
from keras_models.progress import TrainingProgress
from keras_models.run_dir import RunDirectory


@dataclasses.dataclass
class RunCallbacks:
    """A run's callbacks, in `fit`'s order, and those whose results the run reads.

    Attributes:
        all: every callback, in the order `fit` calls them.
        evaluator: the metric evaluator (its `history` goes to the report).
        guard: the non-finite guard (its `reason` says whether the run diverged).
        monitor: the overfitting monitor, or None without held-out images.
        stop: what stops the run on SIGINT/SIGTERM (its `received` says whether it did).
    """

    all: list[keras.callbacks.Callback]
    evaluator: callbacks.MetricEvaluator
    guard: callbacks.NonFiniteGuard
    monitor: callbacks.OverfittingMonitor | None
    stop: callbacks.StopOnSignal


def reference_statistics(
    config: TrainConfig, inception: object, images: np.ndarray, run_dir: RunDirectory
) -> metrics.ReferenceStatistics:
    """The statistics of the run's reference split for FID/KID, cached in the run
    directory as `reference_statistics_<split>.npz` (training and `evaluate` share it).

    Args:
        config: the run's config (its dataset, resolution, fid_split and data_dir).
        inception: the feature extractor.
        images: the run's training images (the reference of an image folder).
        run_dir: the run directory holding the cache.

    Returns:
        The reference statistics.
    """
    reals, split = data.reference_images(
        config.dataset, config.resolution, config.fid_split, images, data_dir=config.data_dir
    )
    return metrics.ReferenceStatistics.compute(
        inception,
        reals,
        dataset=config.dataset,
        split=split,
        cache_path=os.path.join(run_dir.path, f"reference_statistics_{split}.npz"),
    )


def run_callbacks(
    config: TrainConfig,
    reals: data.TrainingData,
    run_dir: RunDirectory,
    manager: tf.train.CheckpointManager,
    train_steps: keras.Variable,
    *,
    start: int,
    inception: object | None = None,
    multi_worker: tf.distribute.cluster_resolver.ClusterResolver | None = None,
) -> RunCallbacks:
    """The callbacks of a run that starts (or resumes) at step `start`.

    Args:
        config: the run's config.
        reals: its training data.
        run_dir: its run directory.
        manager: the checkpoint manager writing into `run_dir`.
        train_steps: the GAN's step counter (checkpointed at every epoch end).
        start: the step the run starts at.
        inception: the feature extractor of the config's metrics, or None without any.
        multi_worker: the cluster of a `MultiWorkerMirroredStrategy` run, whose workers
            save on SIGTERM through TensorFlow's `PreemptionCheckpointHandler`; None
            for a run in one process, which saves on SIGTERM itself.

    Returns:
        The callbacks.
    """
    images, labels = reals.images, reals.labels
    reference = None
    if inception is not None:
        reference = reference_statistics(config, inception, images, run_dir)
    guard = callbacks.NonFiniteGuard(checkpoint_dir=run_dir.checkpoints, warn=False)
    evaluator = callbacks.MetricEvaluator(
        images[: config.num_eval_images],
        every_n_steps=config.eval_every,
        log_dir=run_dir.logs,
        num_fake=config.num_fid_images if reference else None,
        inception=inception,
        reference=reference,
        metrics=[m for m in config.metrics.split(",") if m],
        history_path=run_dir.metrics_path,
        checkpoint_path=(
            None
            if config.best_metric == "none"
            else os.path.join(run_dir.checkpoints, "best.weights.h5")
        ),
        monitor="swd" if config.best_metric == "none" else config.best_metric,
        fresh_fakes=config.eval_fakes == "fresh",
        initial_step=start,
        seed=config.seed,
        guard=guard,
    )
    monitor = None
    if reals.heldout is not None:
        count = len(reals.heldout[0])
        monitor = callbacks.OverfittingMonitor(
            pack(images[:count], None if labels is None else labels[:count]),
            pack(*reals.heldout),
            every_n_steps=config.eval_every,
            log_dir=run_dir.logs,
            initial_step=start,
            guard=guard,
        )
    samples = callbacks.SampleGrid(
        num_samples=min(64, len(images)),
        output_dir=run_dir.samples,
        log_dir=run_dir.logs,
        every_n_steps=config.sample_every,
        labels=None if labels is None else labels[:64],
        initial_step=start,
        seed=config.seed,
        guard=guard,
    )
    nearest = callbacks.NearestNeighbourReport(
        images, os.path.join(run_dir.path, "nearest.png"), guard=guard
    )
    strength = []
    if config.augment_p == "adaptive":  # p and r_t over training, for the run report
        strength = [
            callbacks.StrengthRecorder(
                run_dir.metrics_path, max(1, config.ckpt_every // 10), start, guard
            )
        ]
    observers = [samples, evaluator, *([monitor] if monitor else []), nearest]
    stop = callbacks.StopOnSignal(
        (signal.SIGINT,) if multi_worker else (signal.SIGINT, signal.SIGTERM),
        skip_at_end=observers,
    )
    every = [
        stop,
        TrainingProgress(
            config.images_per_step,
            total_steps=config.total_steps,
            initial_step=start,
            metrics=("d_loss", "g_loss", "d_real_accuracy", "augment_p"),
        ),
        callbacks.StopAtStep(config.total_steps, config.ckpt_every, initial_step=start),
        keras.callbacks.TensorBoard(run_dir.logs, update_freq=max(1, config.ckpt_every // 10)),
        *strength,
        samples,
        evaluator,
        *([monitor] if monitor else []),
        guard,  # after the callbacks whose metrics it checks, before the checkpoint
        nearest,
        callbacks.CheckpointEveryEpoch(manager, train_steps, guard),
    ]
    if multi_worker:
        every.append(callbacks.SaveOnPreemption(multi_worker, manager, train_steps))
    return RunCallbacks(every, evaluator, guard, monitor, stop)
