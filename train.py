"""Train a GAN with DiffAugment; resume exactly; export, sample and check memorisation.

    python train.py --preset=demo --run_dir=runs/demo             # a few CPU minutes
    python train.py --preset=biggan_cifar10 --percent=10 --kimg=25000 --run_dir=runs/c10-10
    python train.py --preset=stylegan2_fewshot --dataset=/data/100-shot-obama --run_dir=...
    python train.py generate --export_dir=runs/demo/export --output=grid.png
    python train.py nearest --run_dir=runs/demo --output=nearest.png

Flags override the preset's values; the resolved configuration is printed and written to
`<run_dir>/config.json`. Running again with the same --run_dir resumes from the latest
checkpoint with the same next batch and random streams (see keras_models/run_dir.py).
Bad input (unknown preset or dataset, no images, missing weights, unwritable or
incompatible run dir) exits with status 2 before any training starts.
"""

import json
import math
import os
import sys

from absl import app, flags, logging

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_diffaug  # noqa: E402
from keras_models import callbacks as gan_callbacks  # noqa: E402
from keras_models import data, emoji, metrics, recipes, stylegan2  # noqa: E402
from keras_models.gan import GAN, NonFiniteGuard  # noqa: E402
from keras_models.run_dir import RunDirectory, RunDirError, restore_latest  # noqa: E402
from tf_diffaug.augment import parse_policy  # noqa: E402

FLAGS = flags.FLAGS
COMMANDS = ("train", "generate", "nearest")

# --- flags: what to train (each overrides the preset when given) ---------------------
flags.DEFINE_string("preset", "demo", f"Training recipe: one of {', '.join(recipes.RECIPES)}.")
flags.DEFINE_string("dataset", None, "tfds name (cifar10, ...), an image folder, or emoji_faces.")
flags.DEFINE_float("percent", None, "Train on this percentage of the dataset (class-balanced).")
flags.DEFINE_integer("num_images", None, "Train on this many images (instead of --percent).")
flags.DEFINE_integer("holdout", None, "Images of a folder dataset held out for the D monitor.")
flags.DEFINE_bool("conditional", None, "Class-conditional G and D (labels from the dataset).")
flags.DEFINE_string("policy", None, "DiffAugment policy, e.g. color,translation,cutout; '' = none.")
flags.DEFINE_enum(
    "augment_mode",
    None,
    ["diffaugment", "discriminator_only", "reals_only", "none"],
    "Where the augmentation is applied (the paper's ablation).",
)
flags.DEFINE_enum("loss", None, ["hinge", "non_saturating", "wasserstein"], "GAN loss.")
flags.DEFINE_float("r1_gamma", None, "R1 penalty weight.")
flags.DEFINE_float("consistency_weight", None, "Consistency regularisation weight (CR-GAN).")
flags.DEFINE_integer("resolution", None, "Image side in pixels.")
flags.DEFINE_integer("width", None, "Model width (BigGAN ch / StyleGAN2 fmap_base): scale down.")
flags.DEFINE_integer("batch_size", None, "Images per D step (global, across replicas).")
flags.DEFINE_integer("d_steps_per_g_step", None, "Discriminator steps per generator step.")
flags.DEFINE_float("g_learning_rate", None, "Generator Adam learning rate.")
flags.DEFINE_float("d_learning_rate", None, "Discriminator Adam learning rate.")
flags.DEFINE_float("ema_decay", None, "Decay of the generator's moving average.")
flags.DEFINE_bool("x_flip", None, "Dataset x-flips (separate from DiffAugment).")
flags.DEFINE_float("kimg", None, "Training length in thousands of real images shown to D.")
flags.DEFINE_integer("steps", None, "Training length in steps (overrides --kimg).")
flags.DEFINE_integer("seed", None, "Seed of every random stream.")
flags.DEFINE_integer("ckpt_every", None, "Steps between checkpoints (and progress-bar epochs).")
flags.DEFINE_integer("sample_every", None, "Steps between sample grids.")
flags.DEFINE_integer("eval_every", None, "Steps between metric evaluations.")
flags.DEFINE_integer("keep_checkpoints", None, "How many recent checkpoints to keep.")
flags.DEFINE_integer("num_eval_images", None, "Real (and fake) images per evaluation.")
flags.DEFINE_string("metrics", None, "Extra metrics besides SWD: comma list of fid, kid, is.")
flags.DEFINE_string("inception_weights", None, "Path of classify_image_graph_def.pb.")
flags.DEFINE_bool("jit_compile", None, "Compile the train step with XLA.")
flags.DEFINE_enum("mixed_precision", None, ["mixed_float16", "mixed_bfloat16"], "Precision.")
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

OVERRIDE_FLAGS = [name for name in recipes.DEFAULTS if name in FLAGS]


class UsageError(ValueError):
    """Bad command-line input: reported with exit status 2 before training starts."""


def flag_overrides():
    """The flags the user gave on the command line, as config overrides."""
    return {name: FLAGS[name].value for name in OVERRIDE_FLAGS if FLAGS[name].present}


def total_steps(config):
    """Training steps: --steps, or --kimg over the images one step shows D."""
    if config["steps"]:
        return int(config["steps"])
    if not config["kimg"]:
        raise UsageError("Give the training length with --steps or --kimg.")
    per_step = config["batch_size"] * config["d_steps_per_g_step"]
    return math.ceil(config["kimg"] * 1000 / per_step)


# --- building blocks -------------------------------------------------------------------


def make_strategy(name, tpu=None):
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise UsageError("--strategy=multiworker needs TF_CONFIG (cluster and task).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    return tf.distribute.get_strategy()


def path_length_regularizer(config):
    if not config["pl_weight"]:
        return None
    return stylegan2.PathLengthRegularizer(
        weight=config["pl_weight"], interval=config["pl_interval"]
    )


def build_gan(config, num_classes=None):
    """G, D and the GAN model from the config (call inside the strategy scope)."""
    family, width_argument = recipes.FAMILIES[config["model"]]
    overrides = {"num_classes": num_classes}
    if config["resolution"]:
        overrides["resolution"] = config["resolution"]
    if config["width"]:
        overrides[width_argument] = config["width"]
    generator = family.Generator.from_preset(config["model_preset"], **overrides)
    discriminator = family.Discriminator.from_preset(config["model_preset"], **overrides)
    policy = config["policy"]
    augment = tf_diffaug.DiffAugment(policy, seed=config["seed"]) if policy else None
    gan = GAN(
        generator,
        discriminator,
        latent_dim=generator.latent_dim,
        augment=augment,
        augment_mode=config["augment_mode"] if policy else "none",
        loss=config["loss"],
        r1_gamma=config["r1_gamma"],
        r1_interval=config["r1_interval"],
        consistency_weight=config["consistency_weight"],
        ema_decay=config["ema_decay"],
        ema_start_step=config["ema_start_step"],
        d_steps_per_g_step=config["d_steps_per_g_step"],
        num_classes=overrides["num_classes"],
        g_regularizer=path_length_regularizer(config),
        seed=config["seed"],
    )
    gan.compile(
        d_optimizer=adam(config, "discriminator"),
        g_optimizer=adam(config, "generator"),
        jit_compile=config["jit_compile"],
    )
    return gan


def adam(config, network):
    """Adam for "generator" or "discriminator", scaled for lazy regularisation."""
    c = recipes.lazy_regularization_ratio(config, network)
    return keras.optimizers.Adam(
        config[f"{network[0]}_learning_rate"] * c,
        beta_1=config["adam_beta_1"] ** c,
        beta_2=config["adam_beta_2"] ** c,
        epsilon=config["adam_epsilon"],
    )


def to_float(images):
    return np.asarray(images, np.float32) / 127.5 - 1.0


class Data:
    """The training pipeline plus the real images the callbacks need, as [-1, 1] floats.

    Attributes:
        dataset: infinite, deterministic `tf.data.Dataset` of global batches (one
            batch feeds all D steps of a training step).
        images, labels: training reals for metrics and nearest neighbours.
        heldout: `(images, labels)` never trained on (D's overfitting signal), or None.
    """

    def __init__(self, config):
        name = config["dataset"]
        if not name:
            raise UsageError(
                f"Preset {config['preset']!r} needs --dataset (an image folder or tfds name)."
            )
        batch = config["batch_size"] * config["d_steps_per_g_step"]
        common = dict(batch_size=batch, x_flip=config["x_flip"], seed=config["seed"])
        if name == "emoji_faces" or os.path.isdir(name):
            self._from_folder(config, emoji.FACES_DIR if name == "emoji_faces" else name, common)
        elif os.path.sep in name or name.startswith("."):
            raise UsageError(
                f"--dataset={name!r} is not a folder. Give an image folder or tfds name."
            )
        else:
            self._from_tfds(config, name, common)

    def _from_folder(self, config, folder, common):
        images, labels, _ = data.read_images(
            folder, config["resolution"], labels=config["conditional"]
        )
        self.num_classes = len(data.folder_classes(folder)) if config["conditional"] else None
        holdout = config["holdout"] or 0
        if holdout >= len(images):
            raise UsageError(f"--holdout={holdout} leaves none of the {len(images)} images.")
        order = np.random.default_rng(config["seed"]).permutation(len(images))
        held, train = order[:holdout], order[holdout:]
        pick = lambda idx: None if labels is None else labels[idx]
        if config["percent"] or config["num_images"]:
            size = data.subset_size(len(train), config["percent"], config["num_images"])
            train = train[data.select_subset(len(train), size, pick(train), config["seed"])]
        pick = lambda idx: None if labels is None else labels[idx]
        self.dataset = data.from_arrays(images[train], pick(train), **common)
        self.images, self.labels = to_float(images[train]), pick(train)
        self.heldout = (to_float(images[held]), pick(held)) if holdout else None

    def _from_tfds(self, config, name, common):
        subset = dict(
            percent=config["percent"],
            num_images=config["num_images"],
            resolution=config["resolution"],
            with_labels=config["conditional"],
        )
        self.dataset = data.load_tfds(name, "train", **subset, **common)
        self.num_classes = None
        if config["conditional"]:
            self.num_classes = data.tfds_num_classes(name)

        def first(split, count):
            ds = data.load_tfds(
                name,
                split,
                **{**subset, "percent": None, "num_images": None},
                batch_size=1,
                shuffle=False,
                repeat=False,
                with_labels=True,
            )
            pairs = list(ds.take(count).unbatch().as_numpy_iterator())
            return (
                np.stack([p[0] for p in pairs]),
                np.array([p[1] for p in pairs]) if config["conditional"] else None,
            )

        self.images, self.labels = first("train", config["num_eval_images"])
        self.heldout = first("test", min(len(self.images), 1000))


# --- training --------------------------------------------------------------------------


class CheckpointEveryEpoch(keras.callbacks.Callback):
    """Saves a checkpoint numbered by the training step at the end of every epoch
    (an epoch is --ckpt_every steps)."""

    def __init__(self, manager, step):
        super().__init__()
        self.manager, self.step = manager, step

    def on_epoch_end(self, epoch, logs=None):
        self.manager.save(checkpoint_number=int(self.step.numpy()))


def write_report(run, config, history, evaluator, monitor):
    lines = [
        f"# Run report: {config['preset']}",
        "",
        "```json",
        json.dumps(config, indent=1),
        "```",
    ]
    if history:
        last = {k: v[-1] for k, v in history.items()}
        lines += ["", "## Final epoch", ""] + [f"- {k}: {v:.4f}" for k, v in sorted(last.items())]
    if evaluator is not None and evaluator.history:
        lines += [
            "",
            "## Metrics over training",
            "",
            "| step | metric | value |",
            "|---:|---|---:|",
        ]
        lines += [
            f"| {r['step']} | {name} | {value:.4f} |"
            for r in evaluator.history
            for name, value in r.items()
            if name != "step" and isinstance(value, float)
        ]
    if monitor is not None and monitor.history:
        lines += ["", "## Discriminator overfitting signal (sign accuracy on reals)", ""]
        lines += ["| step | train | held-out | gap |", "|---:|---:|---:|---:|"]
        lines += [
            f"| {r['step']} | {r['d_accuracy_train']:.3f} | {r['d_accuracy_heldout']:.3f} "
            f"| {r['accuracy_gap']:.3f} |"
            for r in monitor.history
        ]
    with open(run.report_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    evaluations = [] if evaluator is None else evaluator.history
    report = {
        "config": config,
        "history": history,
        "evaluations": [{k: v for k, v in r.items() if k != "protocols"} for r in evaluations],
        "overfitting": [] if monitor is None else monitor.history,
    }
    with open(os.path.join(run.path, "report.json"), "w") as f:
        json.dump(report, f, indent=1, default=float)


def write_augmentation_preview(path, images, policy, seed, count=8):
    """A PNG of `count` real images (first row), then one row per op of the policy and a
    last row with the whole policy: what D sees of the training data."""
    ops = parse_policy(policy)
    if not ops:
        return
    reals = images[:count]
    rows = [reals] + [
        tf_diffaug.diff_augment(reals, policy, seed=seed).numpy()
        for policy in (*[[op] for op in ops], list(ops))
    ]
    gan_callbacks.save_png(gan_callbacks.image_grid(np.concatenate(rows), len(reals)), path)


class Training:
    """One `train` command: `prepare` checks every input and builds everything (errors
    here exit with status 2, before any training), then `run` trains."""

    def __init__(self, config):
        self.config = config
        self.run_dir = RunDirectory(FLAGS.run_dir or os.path.join("runs", config["preset"]))

    def prepare(self):
        config = self.config
        # First: multi-worker collectives must be configured before any TensorFlow op runs.
        strategy = make_strategy(FLAGS.strategy, FLAGS.tpu)
        wanted = [m for m in config["metrics"].split(",") if m]
        if set(wanted) - {"fid", "kid", "is"}:
            raise UsageError(f"--metrics takes fid, kid, is. Received: {config['metrics']!r}")
        if wanted and not config["inception_weights"]:
            raise UsageError("--metrics=fid/kid/is need --inception_weights=PATH.")
        self.inception = metrics.InceptionFeatures(config["inception_weights"]) if wanted else None
        parse_policy(config["policy"])  # an unknown op fails here, not mid-build
        self.steps = total_steps(config)
        self.reals = Data(config)
        print(json.dumps(config, indent=2, sort_keys=True))
        if FLAGS.deterministic:
            tf.config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(config["seed"])
        if config["mixed_precision"]:
            keras.mixed_precision.set_global_policy(config["mixed_precision"])
        with strategy.scope():
            self.gan = build_gan(config, self.reals.num_classes)
        if FLAGS.dry_run:
            return False
        resuming = self.run_dir.prepare(config, resume=FLAGS.resume, overwrite=FLAGS.overwrite)
        checkpoint = tf.train.Checkpoint(**self.gan.checkpoint_items())
        self.manager = tf.train.CheckpointManager(
            checkpoint, self.run_dir.checkpoints, max_to_keep=config["keep_checkpoints"]
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
        if self.start % config["ckpt_every"]:
            raise UsageError(
                f"Checkpoint step {self.start} is not a multiple of "
                f"--ckpt_every={config['ckpt_every']}; resume with the original value."
            )
        return True

    def callbacks(self):
        config, run, start = self.config, self.run_dir, self.start
        images, labels = self.reals.images, self.reals.labels
        reference = None
        if self.inception is not None:
            reference = metrics.ReferenceStatistics.compute(
                self.inception,
                images,
                dataset=config["dataset"],
                split="train",
                cache_path=os.path.join(run.path, "reference_statistics.npz"),
            )
        self.evaluator = gan_callbacks.MetricEvaluator(
            images[: config["num_eval_images"]],
            every_n_steps=config["eval_every"],
            log_dir=run.logs,
            inception=self.inception,
            reference=reference,
            history_path=run.metrics_path,
            checkpoint_path=os.path.join(run.checkpoints, "best.weights.h5"),
            initial_step=start,
            seed=config["seed"],
        )
        self.monitor = None
        if self.reals.heldout is not None:
            held_images, held_labels = self.reals.heldout
            count = len(held_images)
            with_labels = lambda x, y: x if y is None else (x, y)
            self.monitor = gan_callbacks.OverfittingMonitor(
                with_labels(images[:count], None if labels is None else labels[:count]),
                with_labels(held_images, held_labels),
                every_n_steps=config["eval_every"],
                log_dir=run.logs,
                initial_step=start,
            )
        return [
            NonFiniteGuard(checkpoint_dir=run.checkpoints),
            keras.callbacks.TensorBoard(run.logs, update_freq=max(1, config["ckpt_every"] // 10)),
            gan_callbacks.SampleGrid(
                num_samples=min(64, len(images)),
                output_dir=run.samples,
                log_dir=run.logs,
                every_n_steps=config["sample_every"],
                labels=None if labels is None else labels[:64],
                initial_step=start,
                seed=config["seed"],
            ),
            self.evaluator,
            *([self.monitor] if self.monitor else []),
            gan_callbacks.NearestNeighbourReport(images, os.path.join(run.path, "nearest.png")),
            CheckpointEveryEpoch(self.manager, self.gan.train_steps),
        ]

    def run(self):
        tick = self.config["ckpt_every"]
        write_augmentation_preview(
            os.path.join(self.run_dir.path, "augmentations.png"),
            self.reals.images,
            self.config["policy"],
            self.config["seed"],
        )
        # The pipeline is deterministic, so skipping the batches already trained on gives
        # exactly the batch an uninterrupted run would see next.
        history = self.gan.fit(
            self.reals.dataset.skip(self.start),
            epochs=math.ceil(self.steps / tick),
            initial_epoch=self.start // tick,
            steps_per_epoch=tick,
            callbacks=self.callbacks(),
            shuffle=False,  # the pipeline shuffles, deterministically
            verbose=1 if sys.stdout.isatty() else 2,
        )
        if FLAGS.export:
            self.gan.export_generator(self.run_dir.export)
            print(f"Exported the EMA generator to {self.run_dir.export}")
        write_report(self.run_dir, self.config, history.history, self.evaluator, self.monitor)
        print(f"Run directory: {self.run_dir.path} (samples/, report.md, logs/ for TensorBoard)")


# --- generate / nearest ------------------------------------------------------------------


def truncated_latents(rng, num, dim, threshold):
    """Standard normal latents; with `threshold`, entries beyond it are redrawn (BigGAN's
    truncation trick), trading variety for fidelity."""
    z = rng.standard_normal((num, dim)).astype(np.float32)
    while threshold is not None and np.any(np.abs(z) > threshold):
        outside = np.abs(z) > threshold
        z[outside] = rng.standard_normal(outside.sum())
    return z


def slerp(a, b, t):
    omega = np.arccos(np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1, 1))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def load_serving(export_dir):
    if not export_dir or not os.path.isdir(export_dir):
        raise UsageError(
            f"No SavedModel at {export_dir!r}: train with --export or give --export_dir."
        )
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    inputs = serve.structured_input_signature[1]
    return serve, inputs["latents"].shape[-1], "labels" in inputs


def generate_images(serve, latents, conditional, label):
    kwargs = {"latents": tf.constant(latents)}
    if conditional:
        kwargs["labels"] = tf.fill([len(latents)], label or 0)
    return serve(**kwargs)["images"].numpy()


def generate_command():
    export_dir = FLAGS.export_dir or (FLAGS.run_dir and RunDirectory(FLAGS.run_dir).export)
    serve, dim, conditional = load_serving(export_dir)
    rng = np.random.default_rng(FLAGS.seed or 0)
    if FLAGS.interpolate:
        a, b = truncated_latents(rng, 2, dim, FLAGS.truncation)
        latents = np.stack([slerp(a, b, t) for t in np.linspace(0, 1, FLAGS.interpolate)])
        columns = FLAGS.interpolate
    else:
        latents, columns = truncated_latents(rng, FLAGS.num_samples, dim, FLAGS.truncation), None
    images = generate_images(serve, latents, conditional, FLAGS.label)
    output = FLAGS.output or "samples.png"
    gan_callbacks.save_png(gan_callbacks.image_grid(images, columns), output)
    if FLAGS.output_dir:
        os.makedirs(FLAGS.output_dir, exist_ok=True)
        for i, image in enumerate(images):
            path = os.path.join(FLAGS.output_dir, f"{i:05d}.png")
            gan_callbacks.save_png(gan_callbacks.image_grid(image[None]), path)
    print(f"Wrote {len(images)} images to {output}")


def nearest_command():
    if not FLAGS.run_dir:
        raise UsageError("nearest needs --run_dir (its config names the training data).")
    run = RunDirectory(FLAGS.run_dir)
    config = run.saved_config()
    if config is None:
        raise UsageError(f"No run in {run.path!r} (config.json is missing).")
    serve, dim, conditional = load_serving(FLAGS.export_dir or run.export)
    images = Data(config).images
    rng = np.random.default_rng(FLAGS.seed or 0)
    samples = generate_images(serve, truncated_latents(rng, 8, dim, None), conditional, FLAGS.label)
    indices, _ = gan_callbacks.nearest_neighbours(samples, images, k=4)
    rows = np.concatenate([samples[:, None], images[indices]], axis=1)  # (8, 5, H, W, C)
    output = FLAGS.output or os.path.join(run.path, "nearest_export.png")
    gan_callbacks.save_png(gan_callbacks.image_grid(rows.reshape(-1, *rows.shape[2:]), 5), output)
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
        training = Training(recipes.resolve(FLAGS.preset, flag_overrides()))
        if not training.prepare():
            return None
    except (UsageError, RunDirError, ValueError, FileNotFoundError) as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    training.run()


def run():
    """Console-script entry point (`tf-diffaug-train`)."""
    app.run(main)


if __name__ == "__main__":
    run()
