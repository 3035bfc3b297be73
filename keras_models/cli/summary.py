"""The start-up summary of a training run: a few lines saying what runs where.

The recipe, the data, the model, the device, the length and the run directory, one line
each (the full configuration goes to the run directory's config.json).
"""

import keras

from keras_models import data, devices, recipes
from keras_models.config import TrainConfig
from keras_models.devices import Precision


def summary_lines(
    config: TrainConfig,
    reals: data.TrainingData,
    gan: keras.Model,
    *,
    strategy: str,
    replicas: int,
    precision: Precision,
    run_dir: str,
) -> list[str]:
    """The start-up lines of a run.

    Args:
        config: the run's config.
        reals: its `keras_models.data.TrainingData`.
        gan: its built `keras_models.GAN`.
        strategy: the strategy's name (`RunOptions.strategy`).
        replicas: the strategy's replicas in sync.
        precision: the dtype policy and why (`keras_models.devices.resolve_precision`).
        run_dir: the run directory's path.

    Returns:
        One string per line.
    """
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
    per_step = config.images_per_step
    return [
        *recipes.describe(config),
        f"Data: {config.dataset} at {side}x{side}: {source}{classes}.",
        f"Model: {config.model} {config.model_preset}{width}: G "
        f"{gan.generator.count_params():,} + D {gan.discriminator.count_params():,} "
        "parameters.",
        f"Device: {device}, --strategy={strategy} ({replicas} replica(s)); XLA {xla} "
        f"({devices.jit_reason(config.jit_compile)}); "
        f"precision {precision.policy} ({precision.reason}).",
        f"Length: {config.total_steps:,} steps of {per_step} images "
        f"({config.total_steps * per_step / 1000:g} kimg), a checkpoint every "
        f"{config.ckpt_every:,} steps.",
        *recipes.evaluation(config),
        f"Run directory: {run_dir} (full configuration in config.json).",
    ]
