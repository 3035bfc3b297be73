"""One training run, from a config and options to a trained, exported, reported GAN.

`Training(config, options).run()` checks every input and builds everything first
(`prepare`: bad input raises `UsageError` before anything is trained or written), then
trains (`fit`: a run that diverges or cannot write its outputs raises `TrainingError`;
its run directory resumes), exports the EMA generator and writes the report. It reads
no command-line flags and never exits the process, so the same run is one call from
Python:

```python
from keras_models import recipes
from keras_models.cli import RunOptions, Training

config = recipes.resolve("demo", {"steps": 100})
Training(config, RunOptions(run_dir="runs/demo")).run()
```
"""

import math
import os
import signal

import keras
import tensorflow as tf

from keras_models import build, data, devices, finetune, metrics, report
from keras_models.callbacks import Preempted
from keras_models.checkpoint_files import checkpoint_manager, restore_latest
from keras_models.cli.assembly import RunCallbacks, run_callbacks
from keras_models.cli.errors import (
    INPUT_ERRORS,
    Interrupted,
    SignalReceived,
    TrainingError,
    UsageError,
)
from keras_models.cli.options import RunOptions
from keras_models.cli.summary import summary_lines
from keras_models.config import TrainConfig
from keras_models.run_dir import RunDirectory


def load_data(config: TrainConfig) -> data.TrainingData:
    """The run's training data (one batch feeds all D steps of a train step).

    Args:
        config: the run's config (its dataset, resolution, subset and batching fields).

    Returns:
        The training data.

    Raises:
        UsageError: no dataset is configured, or an image cannot be read.
    """
    if not config.dataset:
        raise UsageError(
            f"Preset {config.preset!r} needs --dataset (an image folder or tfds name)."
        )
    try:
        return data.load_training_data(
            config.dataset,
            config.resolution,
            batch_size=config.images_per_step,
            **config.select(
                "conditional",
                "x_flip",
                "seed",
                "percent",
                "num_images",
                "subset_selection",
                "holdout",
                "num_eval_images",
                "data_dir",
                "download",
            ),
        )
    except data.UnreadableImageError as error:
        raise UsageError(str(error)) from error


def check_outside_dataset(run_dir: RunDirectory, dataset: str | None) -> None:
    """Refuses a run directory inside an image-folder dataset: the folder is searched
    recursively, so the run's own sample PNGs would become training images.

    Raises:
        UsageError: `run_dir` is inside the folder `dataset`.
    """
    if not dataset or not os.path.isdir(dataset):
        return
    folder = os.path.realpath(dataset)
    if os.path.commonpath([folder, os.path.realpath(run_dir.path)]) == folder:
        raise UsageError(
            f"The run directory {run_dir.path!r} is inside the dataset folder {dataset!r}, "
            "whose images are searched recursively: the run's sample PNGs would be read "
            "as training images. Choose a --run_dir outside the dataset folder."
        )


class Training:
    """One training run of `config`, where and how `options` say.

    Args:
        config: what to train.
        options: where and how (defaults: `RunOptions()`, i.e. `runs/<preset>`).

    Attributes:
        run_dir: the run's `keras_models.run_dir.RunDirectory`.
        gan: the `keras_models.GAN` (after `prepare`).
        history: `fit`'s `History.history` (after `fit`).
    """

    def __init__(self, config: TrainConfig, options: RunOptions | None = None):
        self.config = config
        self.options = options or RunOptions()
        self.run_dir = RunDirectory(self.options.run_dir_of(config.preset))
        self.history = None
        self.manager: tf.train.CheckpointManager | None = None

    def run(self) -> None:
        """Prepares, then (unless `options.dry_run`) trains, exports and reports.

        Raises:
            UsageError: bad input, before anything is trained or written.
            TrainingError: the run started and cannot go on; it resumes once fixed.
            Interrupted: a signal stopped the run (a `TrainingError`); it resumes.
        """
        try:
            if self.prepare():
                self.fit()
        except SignalReceived as received:  # outside the steps `StopOnSignal` watches
            raise self._stopped(received.signal, at_once=True) from None
        finally:
            self.run_dir.unlock()

    def prepare(self) -> bool:
        """Checks every input, builds the GAN and prepares (or resumes) the run directory.

        Prints the start-up summary.

        Returns:
            False for a dry run (nothing written), True when ready to `fit`.

        Raises:
            UsageError: any bad input (the run directory is then untouched or unlocked).
        """
        try:
            return self._prepare()
        except UsageError:
            raise
        except INPUT_ERRORS as error:
            raise UsageError(str(error)) from error

    def _prepare(self):
        config, options = self.config, self.options
        # First: multi-worker collectives must be configured before any TensorFlow op runs.
        strategy = devices.make_strategy(options.strategy, options.tpu)
        check_outside_dataset(self.run_dir, config.dataset)
        self.inception = None
        if config.metrics:
            self.inception = metrics.feature_extractor(
                config.feature_extractor, config.inception_weights
            )
        self.reals = load_data(config)
        if options.deterministic:
            tf.config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(config.seed)
        precision = devices.resolve_precision(config.mixed_precision)
        keras.mixed_precision.set_global_policy(precision.policy)
        with strategy.scope():
            self.gan = build.build_gan(config, self.reals.num_classes)
        summary = summary_lines(
            config,
            self.reals,
            self.gan,
            strategy=options.strategy,
            replicas=strategy.num_replicas_in_sync,
            precision=precision,
            run_dir=self.run_dir.path,
        )
        print("\n".join(summary))
        self.initial_weights = None
        if config.init_from:  # checked and loaded before the run directory is touched
            self.initial_weights = finetune.load_initial_weights(self.gan, config.init_from)
            print(f"Initialised G, D and EMA G from {self.initial_weights}.")
        if options.dry_run:
            return False
        self.strategy = strategy
        resuming = self.run_dir.prepare(config, resume=options.resume, overwrite=options.overwrite)
        checkpoint = tf.train.Checkpoint(**self.gan.checkpoint_items())
        restored = restore_latest(checkpoint, self.run_dir.checkpoints) if resuming else None
        self.manager = checkpoint_manager(
            checkpoint, self.run_dir.checkpoints, config.keep_checkpoints, latest=restored
        )
        self.start = int(self.gan.train_steps.numpy()) if restored else 0
        if resuming:
            print(
                f"Resuming from {restored} at step {self.start}."
                if restored
                else "No readable checkpoint: starting from step 0."
            )
            # The checkpoint holds the saved run's learning rates; a resumed run may change
            # them (e.g. lowered after a divergence).
            self.gan.d_optimizer.learning_rate = config.d_learning_rate
            self.gan.g_optimizer.learning_rate = config.g_learning_rate
        self.run_dir.drop_metrics_after(self.start)  # measured again, not twice
        return True

    def fit(self) -> None:
        """Trains the prepared run to `config.total_steps`, then exports and reports.

        Raises:
            TrainingError: the run diverged or could not write its outputs.
        """
        config, tick = self.config, self.config.ckpt_every
        report.write_augmentation_preview(
            os.path.join(self.run_dir.path, "augmentations.png"),
            self.reals.images,
            config.policy,
            config.seed,
        )
        run = run_callbacks(
            config,
            self.reals,
            self.run_dir,
            self.manager,
            self.gan.train_steps,
            start=self.start,
            inception=self.inception,
            multi_worker=(
                self.strategy.cluster_resolver if self.options.strategy == "multiworker" else None
            ),
        )
        # The pipeline is deterministic, so skipping the batches already trained on gives
        # exactly the batch an uninterrupted run would see next. Epochs (checkpoints) end
        # every `tick` steps from the start (multiples of it unless resumed elsewhere,
        # e.g. from the last good checkpoint of a diverged run).
        initial_epoch = self.start // tick
        try:
            history = self.gan.fit(
                self.reals.dataset.skip(self.start),
                epochs=initial_epoch + max(0, math.ceil((config.total_steps - self.start) / tick)),
                initial_epoch=initial_epoch,
                steps_per_epoch=tick,
                callbacks=run.all,
                shuffle=False,  # the pipeline shuffles, deterministically
                verbose=0,  # TrainingProgress reports, for the whole run
            )
        except Preempted:
            raise self._stopped(signal.SIGTERM) from None
        except OSError as error:  # e.g. no permission or no space left in the run directory
            raise TrainingError(
                f"{error}. Nothing is lost up to the last checkpoint "
                f"({self.manager.latest_checkpoint or 'none yet'}): fix the run directory "
                "and run the same command again to resume."
            ) from error
        if run.guard.reason is not None:
            raise TrainingError(self._divergence_advice(run))
        if run.stop.received is not None:
            raise self._stopped(run.stop.received)
        self.history = history.history
        if self.options.export:
            self.gan.export_generator(self.run_dir.export)
            print(f"Exported the EMA generator to {self.run_dir.export}")
        report.write_report(
            self.run_dir,
            config,
            history.history,
            run.evaluator.history,
            run.monitor.history if run.monitor else (),
            initial_weights=self.initial_weights,
        )
        print(f"Run directory: {self.run_dir.path} (samples/, report.md, logs/ for TensorBoard)")

    def _stopped(self, signum: int, at_once: bool = False) -> Interrupted:
        """Where a signal stopped the run (`at_once`: within a step, or before training)
        and how to resume."""
        name = signal.Signals(signum).name
        latest = self.manager.latest_checkpoint if self.manager else None
        if at_once:
            kept = f"the last checkpoint, {latest}" if latest else "no checkpoint yet"
            message = f"stopped by {name}: nothing is lost up to {kept}"
        else:
            step = int(keras.ops.convert_to_numpy(self.gan.train_steps))
            message = (
                f"stopped by {name} at step {step} of {self.config.total_steps}, "
                f"after saving {latest}"
            )
        return Interrupted(f"{message}. Run the same command again to resume.", signum)

    def _divergence_advice(self, run: RunCallbacks) -> str:
        """What a diverged run left and how to recover (NonFiniteGuard kept every save of
        the diverged state out, so the newest checkpoint is the last good one)."""
        config, last_good = self.config, self.manager.latest_checkpoint
        step = int(keras.ops.convert_to_numpy(self.gan.train_steps))
        lower = f"--g_learning_rate={config.g_learning_rate / 10:g} "
        lower += f"--d_learning_rate={config.d_learning_rate / 10:g}"
        where = (
            f"resumes from the last good checkpoint, {last_good}"
            if last_good
            else "starts from step 0 (no checkpoint was written before it diverged)"
        )
        return (
            f"training diverged at step {step}: {run.guard.reason}. No checkpoint or export "
            f"of the diverged model was written. Lower the learning rates and run the same "
            f"command again, e.g. with {lower}: it {where}."
        )


def train(config: TrainConfig, **options) -> Training:
    """Runs `Training(config, RunOptions(**options))`.

    Args:
        config: what to train, e.g. `keras_models.recipes.resolve("demo", {"steps": 4})`.
        **options: `RunOptions` fields, e.g. `run_dir="runs/demo"`.

    Returns:
        The finished `Training` (its `gan`, `run_dir` and `history`).

    Raises:
        UsageError: bad input, before anything is trained or written.
        TrainingError: the run started and cannot go on; it resumes once fixed.
    """
    training = Training(config, RunOptions(**options))
    training.run()
    return training
