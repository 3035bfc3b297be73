"""The `generate`, `nearest` and `evaluate` commands: using a trained run's export.

`generate` writes a grid (or an interpolation strip, or one PNG per image) of an
exported generator's samples; `nearest` writes samples beside their nearest training
images, to check memorisation; `evaluate` scores the export with FID/KID/IS/precision-
recall under the paper's protocol, against the reference statistics training caches.
Each takes typed arguments (`define_command_flags` defines their flags) and raises
`UsageError` for bad input; `keras_models.sampling` and `keras_models.metrics` do the
work.
"""

import itertools
import json
import os
from typing import Any

import tensorflow as tf
from absl import flags

from keras_models import metrics, sampling
from keras_models.cli.assembly import reference_statistics
from keras_models.cli.errors import UsageError
from keras_models.cli.training import load_data
from keras_models.config import TrainConfig
from keras_models.metrics.evaluation import MetricResult
from keras_models.run_dir import RunDirectory

# The config fields `evaluate` takes from its flags (the rest are the run's): where the
# data is, and the evaluation's protocol.
EVALUATE_FIELDS = (
    "data_dir",
    "metrics",
    "num_fid_images",
    "fid_split",
    "inception_weights",
    "feature_extractor",
    "seed",
)


def define_command_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the flags of `generate`, `nearest` and `evaluate` (besides the run's and
    the config's, e.g. --run_dir and --seed).

    Args:
        flag_values: where to define them (absl's global `FLAGS` by default).
    """
    define = dict(flag_values=flag_values)
    flags.DEFINE_string(
        "export_dir", None, "SavedModel directory (default: <run_dir>/export).", **define
    )
    flags.DEFINE_integer("num_samples", 64, "Images to generate.", **define)
    flags.DEFINE_string(
        "output",
        None,
        "Output image path: .png (default samples.png), .jpg, .jpeg or .webp; generate: "
        "'' for no grid (with --output_dir). evaluate: the JSON file of the results "
        "(default <run_dir>/evaluation.json).",
        **define,
    )
    flags.DEFINE_string(
        "output_dir", None, "generate: also write each image as a PNG here.", **define
    )
    flags.DEFINE_float(
        "truncation", None, "Resample latent entries with |z| > this (BigGAN).", **define
    )
    flags.DEFINE_integer(
        "interpolate", 0, "generate: write an N-step latent interpolation strip.", **define
    )
    flags.DEFINE_integer(
        "label",
        None,
        "generate: class label for a conditional generator; evaluate: the class of every "
        "fake (default: uniform over the classes).",
        **define,
    )


def generate(
    *,
    export_dir: str | None,
    run_dir: str | None = None,
    output: str | None = None,
    num_samples: int = 64,
    seed: int = 0,
    truncation: float | None = None,
    interpolate: int = 0,
    label: int | None = None,
    output_dir: str | None = None,
) -> None:
    """Writes samples of an exported generator (`keras_models.sampling.write_samples`).

    Args:
        export_dir: the SavedModel; None: `<run_dir>/export`.
        run_dir: the run whose export to sample when `export_dir` is None.
        output: the grid's (or strip's) path; None: `samples.png`; '': no grid (with
            `output_dir`).
        num_samples: images in the grid.
        seed: seed of the latents.
        truncation: resample latent entries with |z| above it (BigGAN), or None.
        interpolate: steps of a latent interpolation strip instead of a grid (0: grid).
        label: class label for a conditional generator.
        output_dir: also write each image as a PNG here.

    Raises:
        ValueError: the export or the arguments are invalid.
    """
    export_dir = export_dir or (run_dir and RunDirectory(run_dir).export)
    output = "samples.png" if output is None else output
    count = sampling.write_samples(
        sampling.ExportedGenerator(export_dir),
        output,
        num_samples=num_samples,
        seed=seed,
        truncation=truncation,
        interpolate=interpolate,
        label=label,
        output_dir=output_dir,
    )
    written = [output] if output else []
    written += [f"{output_dir} (one file each)"] if output_dir else []
    print(f"Wrote {count} images to {' and '.join(written)}")


def nearest(
    *,
    run_dir: str | None,
    export_dir: str | None = None,
    output: str | None = None,
    seed: int = 0,
    label: int | None = None,
) -> None:
    """Writes samples of a run's export beside their 4 nearest training images.

    Args:
        run_dir: the run (its config.json names the training data).
        export_dir: the SavedModel; None: `<run_dir>/export`.
        output: the PNG's path; None: `<run_dir>/nearest_export.png`.
        seed: seed of the latents.
        label: class label for a conditional generator.

    Raises:
        UsageError: no `run_dir`, or no run in it.
        ValueError: the export or the arguments are invalid.
    """
    run, saved = _saved_run("nearest", run_dir)
    generator = sampling.ExportedGenerator(export_dir or run.export)
    images = load_data(TrainConfig.from_dict(saved)).images
    output = output or os.path.join(run.path, "nearest_export.png")
    sampling.write_nearest(generator, images, output, seed=seed, label=label)
    print(f"Wrote samples beside their 4 nearest training images (pixel L2) to {output}")


def _saved_run(command: str, run_dir: str | None) -> tuple[RunDirectory, dict[str, Any]]:
    """The run a command reads (`run_dir`) and its saved config.

    Raises:
        UsageError: no `run_dir`, or no run in it.
    """
    if not run_dir:
        raise UsageError(f"{command} needs --run_dir (its config names the training data).")
    run = RunDirectory(run_dir)
    saved = run.saved_config()
    if saved is None:
        raise UsageError(
            f"Expected --run_dir to be a training run's directory. Received: {run.path!r}, "
            "which holds no run (no .tf-diffaug-run marker and config.json)."
        )
    return run, saved


def _evaluation_config(
    saved: dict[str, Any], overrides: dict[str, Any]
) -> tuple[TrainConfig, list[str]]:
    """The run's config with the evaluation flags given, and the metrics to compute.

    Args:
        saved: the run's config.json.
        overrides: the config flags given on the command line.

    Returns:
        `(config, metric names)`: the run's metrics, or, when it computed none, all
        those its extractor supports (IS only with Inception).

    Raises:
        UsageError: a config flag `evaluate` does not take, an Inception extractor (or
            IS) without weights, or IS with the emoji extractor.
        ConfigError: an invalid value.
    """
    ignored = sorted(set(overrides) - set(EVALUATE_FIELDS))
    if ignored:
        raise UsageError(
            f"evaluate scores the run as it was trained: its config.json fixes "
            f"{', '.join('--' + name for name in ignored)}. Flags it takes: "
            f"{', '.join('--' + name for name in EVALUATE_FIELDS)}."
        )
    values = {**saved, **overrides}
    extractor, weights = values.get("feature_extractor", "auto"), values.get("inception_weights")
    inception = extractor == "inception" or (extractor == "auto" and bool(weights))
    values["metrics"] = values.get("metrics") or ("fid,kid,is,pr" if inception else "fid,kid,pr")
    names = [m for m in values["metrics"].split(",") if m]
    if (extractor == "inception" or "is" in names) and not weights:
        raise UsageError(
            f"Expected --inception_weights for feature_extractor={extractor!r} with "
            f"metrics={values['metrics']!r}: Inception features and IS need "
            "classify_image_graph_def.pb (from inception-2015-12-05.tgz). Received: none. "
            "Give --inception_weights=PATH to it, or --feature_extractor=emoji "
            "--metrics=fid,kid,pr for the shipped offline extractor (not Inception numbers)."
        )
    if "is" in names and not inception:
        raise UsageError(
            "Expected the Inception extractor for IS (defined on Inception's ImageNet "
            f"classes). Received: feature_extractor={extractor!r}. Drop is from --metrics "
            "or pass --feature_extractor=inception."
        )
    return TrainConfig.from_dict(values), names


def _protocol_line(result: MetricResult, fakes: str) -> str:
    """What a metric's number depends on, in one line."""
    p = result.protocol
    return (
        f"Protocol: {p['feature_extractor']} (sha256 {str(p['extractor_sha256'])[:12]}), "
        f"resize {p['resize']}; reals: {p['num_real']} of {p['dataset']} split {p['split']}; "
        f"fakes: {p['num_fake']} ({fakes}), quantised {p['fakes']}."
    )


def _metric_line(result: MetricResult) -> str:
    """A metric's value (with its spread, and the settings only it has), in one line."""
    p = result.protocol
    spread = f" +- {result.std:.6g}" if result.std is not None else ""
    own = {
        "kid": lambda: f"  ({p['kid_subsets']} subsets of up to {p['kid_subset_size']})",
        "is": lambda: f"  ({p['is_splits']} splits)",
        "precision": lambda: f"  (k={p['pr_neighbourhood']})",
        "recall": lambda: f"  (k={p['pr_neighbourhood']})",
    }.get(result.name, lambda: "")()
    return f"{result.name:<10} {result.value:.6g}{spread}{own}"


def evaluate(
    *,
    run_dir: str | None,
    export_dir: str | None = None,
    output: str | None = None,
    label: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, MetricResult]:
    """Scores a run's exported EMA generator with the paper's protocol and prints it.

    The dataset, resolution and metric settings are the run's (`overrides` replace those
    of `EVALUATE_FIELDS`). The reference statistics are training's own: the same
    function computes them and caches them in the same `<run_dir>/reference_statistics_
    <split>.npz`, so a run and its evaluations share (and check) the cache. The fakes are
    `num_fid_images` images of fresh latents from `seed`, generated in batches and fed to
    the extractor as they come.

    Args:
        run_dir: the run (its config.json names the data and the protocol).
        export_dir: the SavedModel; None: `<run_dir>/export`.
        output: the JSON file of the results; None: `<run_dir>/evaluation.json`.
        label: the class of every fake of a conditional generator; None: uniform labels.
        overrides: config fields given on the command line (`EVALUATE_FIELDS` only).

    Returns:
        `{name: MetricResult}`.

    Raises:
        UsageError: no run, a flag `evaluate` does not take, or missing Inception weights.
        ValueError: the export, the data, the cache or the arguments are invalid.
    """
    run, saved = _saved_run("evaluate", run_dir)
    config, names = _evaluation_config(saved, overrides or {})
    output = output or os.path.join(run.path, "evaluation.json")
    if os.path.isdir(output):
        raise UsageError(
            f"Expected --output to be a JSON file. Received: --output={output!r}, an "
            "existing folder. Name a file in it, e.g. "
            f"--output={os.path.join(output, 'evaluation.json')}."
        )
    sampling.check_writable("--output", output, os.path.dirname(os.path.abspath(output)))
    generator = sampling.ExportedGenerator(export_dir or run.export)
    size = generator.image_shape[0]
    if config.resolution is not None and size != config.resolution:
        raise UsageError(
            f"Expected an export of the run's {config.resolution}px images. Received: "
            f"{export_dir or run.export!r}, a generator of {size}px images. Give the "
            "--export_dir of this run, or the --run_dir of that export."
        )
    extractor = metrics.feature_extractor(config.feature_extractor, config.inception_weights)
    reals = load_data(config)
    num_classes = reals.num_classes if generator.conditional else None
    if generator.conditional and num_classes is None and label is None:
        raise UsageError(
            "Expected the run's data to have classes for a class-conditional export. "
            "Received: unlabelled data. Pass --label=N to evaluate one class."
        )
    reference = reference_statistics(config, extractor, reals.images, run)
    batches = sampling.metric_fakes(
        generator,
        config.num_fid_images,
        seed=config.seed,
        num_classes=num_classes,
        label=label,
    )
    first = next(batches)  # a label the export refuses is raised here, as itself
    fakes = tf.data.Dataset.from_generator(
        lambda: itertools.chain([first], batches),
        output_signature=tf.TensorSpec((None, *generator.image_shape), tf.float32),
    )
    results = metrics.evaluate_inception(extractor, reference, fakes, metrics=names)
    if label is not None:
        drawn = f"seed {config.seed}, all of class {label}"
    elif num_classes:
        drawn = f"seed {config.seed}, labels uniform over {num_classes} classes"
    else:
        drawn = f"seed {config.seed}"
    print(_protocol_line(next(iter(results.values())), drawn))
    for result in results.values():
        print(_metric_line(result))
    record = {
        "run_dir": run.path,
        "export_dir": os.path.abspath(export_dir or run.export),
        "fakes": drawn,
        "metrics": {
            name: {"value": r.value, "std": r.std, "protocol": r.protocol}
            for name, r in results.items()
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    print(f"Wrote the results and their protocol to {output}")
    return results
