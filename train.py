"""Train a GAN with DiffAugment; resume exactly; export, sample and check memorisation.

    python train.py --preset=demo --run_dir=runs/demo             # a few CPU minutes
    python train.py --preset=biggan_cifar10 --percent=10 --kimg=25000 --run_dir=runs/c10-10
    python train.py --preset=stylegan2_fewshot --dataset=/data/100-shot-obama --run_dir=...
    python train.py --preset=demo --init_from=runs/demo --freeze_d=2 --run_dir=runs/ft  # fine-tune
    python train.py generate --export_dir=runs/demo/export --output=grid.png
    python train.py nearest --run_dir=runs/demo --output=nearest.png

Every field of `keras_models.config.TrainConfig` is a flag of the same name that
overrides the preset's value; the resolved configuration is written to
`<run_dir>/config.json` (a summary is printed). Running again with the same --run_dir
resumes from the latest checkpoint with the same next batch and random streams (see
keras_models/run_dir.py).
Bad input (invalid values, unknown preset or dataset, no images, missing weights,
unwritable, busy or incompatible run dir) exits with status 2 before any training starts;
a run that diverges or cannot write its outputs exits with status 1, resumable.

This file only orchestrates: flags -> config (keras_models.config, .recipes) -> data
(.data) and GAN (.recipes.build_gan) -> fit with callbacks (.callbacks) -> export and
report (.report); `generate` and `nearest` use keras_models.sampling.
"""

import contextlib
import math
import os
import re
import sys
import tempfile
import warnings

from absl import app, flags, logging

# TensorFlow's C++ log threshold (0 all, 1 no INFO, 2 no WARNING, 3 no ERROR), unless the
# user chose one; read when TensorFlow loads, so it is set before the import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# An Abseil C++ log line ("I0101 12:00:00.000000   123 file.cc:45] ..."): its severity.
NATIVE_LOG_LINE = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")


@contextlib.contextmanager
def native_start_up_lines_filtered():
    """Holds back TensorFlow's C++ start-up lines below TF_CPP_MIN_LOG_LEVEL.

    TensorFlow logs them (e.g. "oneDNN custom operations are on", "failed call to
    cuInit" on a machine without a GPU) through Abseil before its logging is set up, so
    they reach stderr whatever TF_CPP_MIN_LOG_LEVEL says. What is written to the stderr
    file descriptor meanwhile is captured, then replayed without them.
    """
    level = os.environ["TF_CPP_MIN_LOG_LEVEL"]
    level = int(level) if level.isdigit() else 0

    def shown(line):
        if line.startswith("WARNING: All log messages before absl::InitializeLog()"):
            return level < 1
        native = NATIVE_LOG_LINE.match(line)
        if native is None:
            return True
        # How a CUDA build says "no GPU here"; the start-up summary names the device.
        severity = "IWEF".index(native[1]) - ("failed call to cuInit" in line)
        return severity >= level

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if shown(line)))


with native_start_up_lines_filtered():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # CUDA initialises here

from keras_models import callbacks as gan_callbacks  # noqa: E402
from keras_models import config as train_config  # noqa: E402
from keras_models import data, devices, finetune, metrics, recipes, report, sampling  # noqa: E402
from keras_models.conditioning import pack  # noqa: E402
from keras_models.progress import TrainingProgress  # noqa: E402
from keras_models.run_dir import RunDirectory, RunDirError, restore_latest  # noqa: E402

FLAGS = flags.FLAGS
COMMANDS = ("train", "generate", "nearest")

# --- flags: what to train, one per config field (each overrides the preset when given) --
train_config.define_flags(FLAGS)
# --- flags: where and how ------------------------------------------------------------
flags.DEFINE_string("run_dir", None, "Run directory (config, checkpoints, logs, samples).")
flags.DEFINE_bool("resume", True, "Continue the run in --run_dir when it holds one.")
flags.DEFINE_bool("overwrite", False, "Delete an existing --run_dir first.")
flags.DEFINE_enum(
    "strategy",
    "default",
    ["default", "mirrored", "multiworker", "tpu"],
    "tf.distribute strategy; multiworker reads TF_CONFIG.",
)
flags.DEFINE_string("tpu", None, "TPU name or address for --strategy=tpu.")
flags.DEFINE_bool("export", True, "Export the EMA generator as a SavedModel at the end.")
flags.DEFINE_bool("deterministic", False, "Enable TensorFlow op determinism.")
flags.DEFINE_bool("dry_run", False, "Resolve and print the config, build the models, exit.")
# --- flags: generate / nearest -------------------------------------------------------
flags.DEFINE_string("export_dir", None, "SavedModel directory (default: <run_dir>/export).")
flags.DEFINE_integer("num_samples", 64, "Images to generate.")
flags.DEFINE_string("output", None, "Output PNG path.")
flags.DEFINE_string("output_dir", None, "generate: also write each image as a PNG here.")
flags.DEFINE_float("truncation", None, "Resample latent entries with |z| > this (BigGAN).")
flags.DEFINE_integer("interpolate", 0, "generate: write an N-step latent interpolation strip.")
flags.DEFINE_integer("label", None, "generate: class label for a conditional generator.")


class UsageError(ValueError):
    """Bad command-line input: reported with exit status 2 before training starts."""


# What bad input raises before training starts (exit status 2, no traceback).
USAGE_ERRORS = (UsageError, RunDirError, ValueError, FileNotFoundError)


def config_from_flags():
    """The `TrainConfig` of --preset with the config flags given on the command line."""
    overrides = train_config.flag_overrides(FLAGS)
    return recipes.resolve(overrides.pop("preset", train_config.TrainConfig.preset), overrides)


def load_data(config):
    """The run's `keras_models.data.TrainingData` (one batch feeds all D steps of a step)."""
    if not config.dataset:
        raise UsageError(
            f"Preset {config.preset!r} needs --dataset (an image folder or tfds name)."
        )
    try:
        return data.load_training_data(
            config.dataset,
            config.resolution,
            batch_size=config.batch_size * config.d_steps_per_g_step,
            **config.select(
                "conditional",
                "x_flip",
                "seed",
                "percent",
                "num_images",
                "holdout",
                "num_eval_images",
                "data_dir",
                "download",
            ),
        )
    except data.UnreadableImageError as error:
        raise UsageError(
            f"Could not read image file {error.file!r}: {error.reason}. Fix it or remove it "
            "from the dataset folder."
        ) from error


def check_outside_dataset(run_dir, dataset):
    """Refuses a run directory inside an image-folder dataset: the folder is searched
    recursively, so the run's own sample PNGs would become training images."""
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
    """One `train` command: `prepare` checks every input and builds everything (errors
    here exit with status 2, before any training), then `run` trains."""

    def __init__(self, config):
        self.config = config
        self.run_dir = RunDirectory(FLAGS.run_dir or os.path.join("runs", config.preset))

    def prepare(self):
        config = self.config
        # First: multi-worker collectives must be configured before any TensorFlow op runs.
        strategy = devices.make_strategy(FLAGS.strategy, FLAGS.tpu)
        check_outside_dataset(self.run_dir, config.dataset)
        self.inception = None
        if config.metrics:
            self.inception = metrics.feature_extractor(
                config.feature_extractor, config.inception_weights
            )
        self.reals = load_data(config)
        if FLAGS.deterministic:
            tf.config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(config.seed)
        self.precision = devices.resolve_precision(config.mixed_precision)
        keras.mixed_precision.set_global_policy(self.precision[0])
        with strategy.scope():
            self.gan = recipes.build_gan(config, self.reals.num_classes)
        print("\n".join(self.summary(strategy)))
        self.initial_weights = None
        if config.init_from:  # checked and loaded before the run directory is touched
            self.initial_weights = finetune.load_initial_weights(self.gan, config.init_from)
            print(f"Initialised G, D and EMA G from {self.initial_weights}.")
        if FLAGS.dry_run:
            return False
        resuming = self.run_dir.prepare(config, resume=FLAGS.resume, overwrite=FLAGS.overwrite)
        checkpoint = tf.train.Checkpoint(**self.gan.checkpoint_items())
        self.manager = tf.train.CheckpointManager(
            checkpoint, self.run_dir.checkpoints, max_to_keep=config.keep_checkpoints
        )
        self.start = 0
        if resuming:
            restored = restore_latest(self.manager, checkpoint)
            self.start = int(self.gan.train_steps.numpy()) if restored else 0
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

    def summary(self, strategy):
        """The start-up lines: the recipe, data, model, device, length and run directory
        (the full configuration goes to config.json)."""
        config, reals, gan = self.config, self.reals, self.gan
        side = reals.images.shape[1]
        if data.is_image_folder(config.dataset):
            held = f" (+ {len(reals.heldout[0])} held out)" if reals.heldout is not None else ""
            source = f"{len(reals.images):,} training images{held}"
        elif config.num_images:
            source = f"tfds, {config.num_images:,} training images"
        else:
            source = f"tfds, {config.percent or 100:g}% of the train split"
        classes = f", {reals.num_classes} classes" if reals.num_classes else ""
        width = f" width {config.width}" if config.width else ""
        accelerators = devices.accelerators()
        device = f"{len(accelerators)} {accelerators[0].device_type}" if accelerators else "CPU"
        xla = "on" if gan.jit_compile else "off"
        per_step = config.batch_size * config.d_steps_per_g_step
        return [
            *recipes.describe(config),
            f"Data: {config.dataset} at {side}x{side}: {source}{classes}.",
            f"Model: {config.model} {config.model_preset}{width}: G "
            f"{gan.generator.count_params():,} + D {gan.discriminator.count_params():,} "
            "parameters.",
            f"Device: {device}, --strategy={FLAGS.strategy} ({strategy.num_replicas_in_sync} "
            f"replica(s)); XLA {xla} ({devices.jit_reason(config.jit_compile)}); "
            f"precision {self.precision[0]} ({self.precision[1]}).",
            f"Length: {config.total_steps:,} steps of {per_step} images "
            f"({config.total_steps * per_step / 1000:g} kimg), a checkpoint every "
            f"{config.ckpt_every:,} steps.",
            f"Run directory: {self.run_dir.path} (full configuration in config.json).",
        ]

    def callbacks(self):
        config, run, start = self.config, self.run_dir, self.start
        images, labels = self.reals.images, self.reals.labels
        reference = None
        if self.inception is not None:  # the paper's protocol: 10k fakes vs the test split
            reals, split = data.reference_images(
                config.dataset,
                config.resolution,
                config.fid_split,
                images,
                data_dir=config.data_dir,
            )
            reference = metrics.ReferenceStatistics.compute(
                self.inception,
                reals,
                dataset=config.dataset,
                split=split,
                cache_path=os.path.join(run.path, f"reference_statistics_{split}.npz"),
            )
        self.evaluator = gan_callbacks.MetricEvaluator(
            images[: config.num_eval_images],
            every_n_steps=config.eval_every,
            log_dir=run.logs,
            num_fake=config.num_fid_images if reference else None,
            inception=self.inception,
            reference=reference,
            metrics=[m for m in config.metrics.split(",") if m],
            history_path=run.metrics_path,
            checkpoint_path=os.path.join(run.checkpoints, "best.weights.h5"),
            initial_step=start,
            seed=config.seed,
        )
        self.guard = gan_callbacks.NonFiniteGuard(checkpoint_dir=run.checkpoints, warn=False)
        self.monitor = None
        if self.reals.heldout is not None:
            count = len(self.reals.heldout[0])
            self.monitor = gan_callbacks.OverfittingMonitor(
                pack(images[:count], None if labels is None else labels[:count]),
                pack(*self.reals.heldout),
                every_n_steps=config.eval_every,
                log_dir=run.logs,
                initial_step=start,
            )
        return [
            TrainingProgress(
                config.batch_size * config.d_steps_per_g_step,
                total_steps=config.total_steps,
                initial_step=start,
                metrics=("d_loss", "g_loss", "d_real_accuracy", "augment_p"),
            ),
            gan_callbacks.StopAtStep(config.total_steps, config.ckpt_every, initial_step=start),
            keras.callbacks.TensorBoard(run.logs, update_freq=max(1, config.ckpt_every // 10)),
            gan_callbacks.SampleGrid(
                num_samples=min(64, len(images)),
                output_dir=run.samples,
                log_dir=run.logs,
                every_n_steps=config.sample_every,
                labels=None if labels is None else labels[:64],
                initial_step=start,
                seed=config.seed,
            ),
            self.evaluator,
            *([self.monitor] if self.monitor else []),
            self.guard,  # after the callbacks whose metrics it checks, before the checkpoint
            gan_callbacks.NearestNeighbourReport(images, os.path.join(run.path, "nearest.png")),
            gan_callbacks.CheckpointEveryEpoch(self.manager, self.gan.train_steps, self.guard),
        ]

    def run(self):
        config, tick = self.config, self.config.ckpt_every
        report.write_augmentation_preview(
            os.path.join(self.run_dir.path, "augmentations.png"),
            self.reals.images,
            config.policy,
            config.seed,
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
                callbacks=self.callbacks(),
                shuffle=False,  # the pipeline shuffles, deterministically
                verbose=0,  # TrainingProgress reports, for the whole run
            )
        except OSError as error:  # e.g. no permission or no space left in the run directory
            exit_with_training_error(
                f"{error}. Nothing is lost up to the last checkpoint "
                f"({self.manager.latest_checkpoint or 'none yet'}): fix the run directory "
                "and run the same command again to resume."
            )
        if self.guard.reason is not None:
            exit_with_training_error(self.divergence_advice())
        if FLAGS.export:
            self.gan.export_generator(self.run_dir.export)
            print(f"Exported the EMA generator to {self.run_dir.export}")
        report.write_report(
            self.run_dir,
            config,
            history.history,
            self.evaluator.history,
            self.monitor.history if self.monitor else (),
            initial_weights=self.initial_weights,
        )
        print(f"Run directory: {self.run_dir.path} (samples/, report.md, logs/ for TensorBoard)")

    def divergence_advice(self):
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
            f"training diverged at step {step}: {self.guard.reason}. No checkpoint or export "
            f"of the diverged model was written. Lower the learning rates and run the same "
            f"command again, e.g. with {lower}: it {where}."
        )


# --- generate / nearest ------------------------------------------------------------------


def generate_command():
    export_dir = FLAGS.export_dir or (FLAGS.run_dir and RunDirectory(FLAGS.run_dir).export)
    output = FLAGS.output or "samples.png"
    count = sampling.write_samples(
        sampling.ExportedGenerator(export_dir),
        output,
        num_samples=FLAGS.num_samples,
        seed=FLAGS.seed or 0,
        truncation=FLAGS.truncation,
        interpolate=FLAGS.interpolate,
        label=FLAGS.label,
        output_dir=FLAGS.output_dir,
    )
    print(f"Wrote {count} images to {output}")


def nearest_command():
    if not FLAGS.run_dir:
        raise UsageError("nearest needs --run_dir (its config names the training data).")
    run = RunDirectory(FLAGS.run_dir)
    saved = run.saved_config()
    if saved is None:
        raise UsageError(f"No run in {run.path!r} (config.json is missing).")
    generator = sampling.ExportedGenerator(FLAGS.export_dir or run.export)
    images = load_data(train_config.TrainConfig.from_dict(saved)).images
    output = FLAGS.output or os.path.join(run.path, "nearest_export.png")
    sampling.write_nearest(generator, images, output, seed=FLAGS.seed or 0, label=FLAGS.label)
    print(f"Wrote samples beside their 4 nearest training images (pixel L2) to {output}")


def main(argv):
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # TensorFlow's INFO lines drown the progress bar
    command = argv[1] if len(argv) > 1 else "train"
    try:
        if command not in COMMANDS or len(argv) > 2:
            raise UsageError(f"Unknown command {argv[1:]}. Commands: {', '.join(COMMANDS)}.")
        if command == "generate":
            return generate_command()
        if command == "nearest":
            return nearest_command()
        training = Training(config_from_flags())
    except USAGE_ERRORS as error:
        exit_with_usage_error(error)
    try:
        try:
            ready = training.prepare()
        except USAGE_ERRORS as error:
            exit_with_usage_error(error)
        if ready:
            training.run()
    finally:
        training.run_dir.unlock()


def exit_with_usage_error(error):
    print(f"train.py: error: {error}", file=sys.stderr)
    sys.exit(2)


def exit_with_training_error(message):
    """A run that started but cannot go on (exit status 1); its run directory resumes."""
    print(f"train.py: error: {message}", file=sys.stderr)
    sys.exit(1)


def parse_flags(argv):
    """absl's flag parsing, with a malformed flag value reported like any bad input."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        exit_with_usage_error(error)


def one_line_warning(message, category, filename, lineno, line=None):
    """A warning as the user reads it: its message, not the library line that raised it."""
    return f"{category.__name__}: {message}\n"


def run():
    """Console-script entry point (`tf-diffaug-train`)."""
    warnings.formatwarning = one_line_warning
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
