"""The `generate` and `nearest` commands: sampling a trained run's exported generator.

`generate` writes a grid (or an interpolation strip, or one PNG per image) of an
exported generator's samples; `nearest` writes samples beside their nearest training
images, to check memorisation. Both take typed arguments (`define_command_flags` defines
their flags) and raise `UsageError` for bad input; `keras_models.sampling` does the
work.
"""

import os

from absl import flags

from keras_models import sampling
from keras_models.cli.errors import UsageError
from keras_models.cli.training import load_data
from keras_models.config import TrainConfig
from keras_models.run_dir import RunDirectory


def define_command_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the flags of `generate` and `nearest` (besides --run_dir and --seed).

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
        "'' for no grid (with --output_dir).",
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
        "label", None, "generate: class label for a conditional generator.", **define
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
    if not run_dir:
        raise UsageError("nearest needs --run_dir (its config names the training data).")
    run = RunDirectory(run_dir)
    saved = run.saved_config()
    if saved is None:
        raise UsageError(
            f"Expected --run_dir to be a training run's directory. Received: {run.path!r}, "
            "which holds no run (no .tf-diffaug-run marker and config.json)."
        )
    generator = sampling.ExportedGenerator(export_dir or run.export)
    images = load_data(TrainConfig.from_dict(saved)).images
    output = output or os.path.join(run.path, "nearest_export.png")
    sampling.write_nearest(generator, images, output, seed=seed, label=label)
    print(f"Wrote samples beside their 4 nearest training images (pixel L2) to {output}")
