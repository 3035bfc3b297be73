"""Train a GAN with DiffAugment; resume exactly; export, sample and check memorisation.

    python train.py --preset=demo --run_dir=runs/demo             # a few CPU minutes
    python train.py --preset=biggan_cifar10 --percent=10 --kimg=25000 --run_dir=runs/c10-10
    python train.py --preset=stylegan2_fewshot --dataset=/data/100-shot-obama --run_dir=...
    python train.py generate --export_dir=runs/demo/export --output=grid.png
    python train.py nearest --run_dir=runs/demo --output=nearest.png

Every field of `keras_models.config.TrainConfig` is a flag of the same name that
overrides the preset's value; the resolved configuration is printed and written to
`<run_dir>/config.json`. Running again with the same --run_dir resumes from the latest
checkpoint with the same next batch and random streams (see keras_models/run_dir.py).
Bad input (invalid values, unknown preset or dataset, no images, missing weights,
unwritable or incompatible run dir) exits with status 2 before any training starts.

This file only orchestrates: flags -> config (keras_models.config, .recipes) -> data
(.data) and GAN (.recipes.build_gan) -> fit with callbacks (.callbacks) -> export and
report (.report); `generate` and `nearest` use keras_models.sampling.
"""

import json
import math
import os
import sys

from absl import app, flags, logging

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_models import callbacks as gan_callbacks  # noqa: E402
from keras_models import config as train_config  # noqa: E402
from keras_models import data, devices, metrics, recipes, report, sampling  # noqa: E402
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
    return data.load_training_data(
        config.dataset,
        config.resolution,
        batch_size=config.batch_size * config.d_steps_per_g_step,
        **config.select(
            "conditional", "x_flip", "seed", "percent", "num_images", "holdout", "num_eval_images"
        ),
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
        self.inception = None
        if config.metrics:
            self.inception = metrics.InceptionFeatures(config.inception_weights)
        self.reals = load_data(config)
        print("\n".join(recipes.describe(config)))
        print(json.dumps(config.to_dict(), indent=2, sort_keys=True))
        if FLAGS.deterministic:
            tf.config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(config.seed)
        if config.mixed_precision:
            keras.mixed_precision.set_global_policy(config.mixed_precision)
        with strategy.scope():
            self.gan = recipes.build_gan(config, self.reals.num_classes)
        xla = "on" if self.gan.jit_compile else "off"
        print(f"XLA: {xla} ({devices.jit_reason(config.jit_compile)}).")
        self.epochs = math.ceil(config.total_steps / config.ckpt_every)
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
        if self.start % config.ckpt_every:
            raise UsageError(
                f"Checkpoint step {self.start} is not a multiple of "
                f"--ckpt_every={config.ckpt_every}; resume with the original value."
            )
        return True

    def callbacks(self):
        config, run, start = self.config, self.run_dir, self.start
        images, labels = self.reals.images, self.reals.labels
        reference = None
        if self.inception is not None:  # the paper's protocol: 10k fakes vs the test split
            reals, split = data.reference_images(
                config.dataset, config.resolution, config.fid_split, images
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
            history_path=run.metrics_path,
            checkpoint_path=os.path.join(run.checkpoints, "best.weights.h5"),
            initial_step=start,
            seed=config.seed,
        )
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
            gan_callbacks.StopAtStep(config.total_steps, config.ckpt_every),
            gan_callbacks.NonFiniteGuard(checkpoint_dir=run.checkpoints),
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
            gan_callbacks.NearestNeighbourReport(images, os.path.join(run.path, "nearest.png")),
            gan_callbacks.CheckpointEveryEpoch(self.manager, self.gan.train_steps),
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
        # exactly the batch an uninterrupted run would see next.
        history = self.gan.fit(
            self.reals.dataset.skip(self.start),
            epochs=self.epochs,
            initial_epoch=self.start // tick,
            steps_per_epoch=tick,
            callbacks=self.callbacks(),
            shuffle=False,  # the pipeline shuffles, deterministically
            verbose=0,  # TrainingProgress reports, for the whole run
        )
        if FLAGS.export:
            self.gan.export_generator(self.run_dir.export)
            print(f"Exported the EMA generator to {self.run_dir.export}")
        report.write_report(
            self.run_dir,
            config,
            history.history,
            self.evaluator.history,
            self.monitor.history if self.monitor else (),
        )
        print(f"Run directory: {self.run_dir.path} (samples/, report.md, logs/ for TensorBoard)")


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
        if not training.prepare():
            return None
    except (UsageError, RunDirError, ValueError, FileNotFoundError) as error:
        exit_with_usage_error(error)
    training.run()


def exit_with_usage_error(error):
    print(f"train.py: error: {error}", file=sys.stderr)
    sys.exit(2)


def parse_flags(argv):
    """absl's flag parsing, with a malformed flag value reported like any bad input."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        exit_with_usage_error(error)


def run():
    """Console-script entry point (`tf-diffaug-train`)."""
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
