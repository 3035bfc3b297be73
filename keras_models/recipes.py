"""Named training recipes for train.py (the paper's settings, and a CPU demo), and the
GAN a configuration builds.

A recipe names a backbone family and preset (whose `"training"` entry carries the paper's
hyper-parameters, see `keras_models/biggan/presets.py` and
`keras_models/stylegan2/presets.py`), a dataset, and anything the recipe changes on top.
`resolve` merges into a `keras_models.config.TrainConfig`, in increasing priority: the
config's defaults, the backbone preset's training entry, the recipe, and the user's
overrides (train.py's flags).
"""

import keras

import tf_diffaug
from keras_models import stylegan2
from keras_models.config import FAMILIES, FIELDS, TrainConfig
from keras_models.gan import GAN

RECIPES = {
    # A short real run on the shipped 169 emoji faces at 32 px: a small unconditional
    # BigGAN that trains on 2 CPU cores in about 3 minutes. 24 faces are held out so that
    # D's overfitting signal (train vs held-out accuracy) can be shown.
    "demo": {
        "model": "biggan",
        "model_preset": "cifar32",
        "dataset": "emoji_faces",
        "holdout": 24,
        "conditional": False,
        "resolution": 32,
        "width": 8,
        "batch_size": 16,
        "d_steps_per_g_step": 1,
        "ema_decay": 0.99,
        "ema_start_step": 100,
        "policy": "color,translation,cutout",
        "steps": 1500,
        "ckpt_every": 250,
        "sample_every": 250,
        "eval_every": 250,
        "num_eval_images": 145,
        "jit_compile": False,  # on CPU, XLA compiles for 25 s and steps no faster
    },
    # DiffAugment-BigGAN CIFAR-10 (paper Table 2): scripts/DiffAugment-biggan-cifar10.sh;
    # 2000 epochs of 50k images at 100% data (use --percent=10 --kimg=25000 for the 10% row:
    # 5000 epochs of 5k images).
    "biggan_cifar10": {
        "model": "biggan",
        "model_preset": "cifar32",
        "dataset": "cifar10",
        "conditional": True,
        "kimg": 100_000,
    },
    "biggan_cifar100": {
        "model": "biggan",
        "model_preset": "cifar32",
        "dataset": "cifar100",
        "conditional": True,
        "kimg": 100_000,
    },
    # CR-BigGAN + DiffAugment (scripts/DiffAugment-cr-biggan-cifar10.sh): consistency
    # regularisation weight 10 and policy "cutout".
    "cr_biggan_cifar10": {
        "model": "biggan",
        "model_preset": "cifar32",
        "dataset": "cifar10",
        "conditional": True,
        "consistency_weight": 10.0,
        "policy": "cutout",
        "kimg": 100_000,
    },
    # DiffAugment-StyleGAN2 CIFAR-10, unconditional (DiffAugment-stylegan2/run_cifar.py).
    "stylegan2_cifar10": {
        "model": "stylegan2",
        "model_preset": "cifar32",
        "dataset": "cifar10",
        "conditional": False,
    },
    # 100-shot Obama / Grumpy cat / Panda, AnimalFace (run_low_shot.py): pass the folder
    # of images with --dataset.
    "stylegan2_fewshot": {
        "model": "stylegan2",
        "model_preset": "fewshot256",
        "conditional": False,
    },
    # BigGAN ImageNet 128 + DiffAugment "translation" (DiffAugment-biggan-imagenet, TPU).
    "biggan_imagenet128": {
        "model": "biggan",
        "model_preset": "imagenet128",
        "dataset": "imagenet2012",
        "conditional": True,
        "resolution": 128,
        "kimg": 409_600,  # 200k steps at batch 2048
    },
}


def lazy_regularization_ratio(config, network):
    """StyleGAN2's optimizer scaling for lazy regularisation, c = interval / (interval + 1).

    A regulariser evaluated every `interval` steps adds one minibatch of gradient work per
    `interval` loss minibatches; the StyleGAN2 reference (NVlabs/stylegan2,
    training/training_loop.py) compensates with learning rate * c and Adam betas ** c.

    Args:
        config: a `TrainConfig`.
        network: "generator" (path length: `pl_weight`, `pl_interval`) or
            "discriminator" (R1: `r1_gamma`, `r1_interval`).

    Returns:
        c, or 1.0 when the regulariser is off or evaluated every step.
    """
    weight, interval = {
        "generator": (config.pl_weight, config.pl_interval),
        "discriminator": (config.r1_gamma, config.r1_interval),
    }[network]
    return interval / (interval + 1) if weight and interval > 1 else 1.0


def backbone_preset(model, model_preset):
    """The backbone preset dict of `model` ("biggan" / "stylegan2"), or {} if unknown (the
    `TrainConfig` then says what is wrong)."""
    family = FAMILIES.get(model)
    return family[0].PRESETS.get(model_preset, {}) if family else {}


def resolve(recipe, overrides=None):
    """The `TrainConfig` of `recipe` with `overrides` (a dict; None values ignored).

    The backbone preset whose training entry applies is the one the recipe or the
    overrides name (`model`, `model_preset`); `resolution` defaults to its resolution.

    Raises:
        ValueError: for an unknown recipe; `ConfigError` for unknown keys or invalid values.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown preset {recipe!r}. Valid presets are: {', '.join(RECIPES)}")
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    chosen = {**RECIPES[recipe], **overrides}
    preset = backbone_preset(
        chosen.get("model", FIELDS["model"].default),
        chosen.get("model_preset", FIELDS["model_preset"].default),
    )
    training = {k: v for k, v in preset.get("training", {}).items() if k in FIELDS}
    values = {**training, **chosen, "preset": recipe}
    if values.get("resolution") is None and preset:  # the backbone preset's own resolution
        values["resolution"] = (preset.get("generator") or preset["model"])["resolution"]
    return TrainConfig.from_dict(values)


# --- building the GAN ------------------------------------------------------------------


def adam(config, network):
    """Adam for "generator" or "discriminator", scaled for lazy regularisation."""
    c = lazy_regularization_ratio(config, network)
    learning_rate = config.g_learning_rate if network == "generator" else config.d_learning_rate
    return keras.optimizers.Adam(
        learning_rate * c,
        beta_1=config.adam_beta_1**c,
        beta_2=config.adam_beta_2**c,
        epsilon=config.adam_epsilon,
    )


def build_gan(config, num_classes=None):
    """G, D and the compiled `keras_models.GAN` of a `TrainConfig` (call it inside the
    distribution strategy's scope)."""
    family, width_argument = FAMILIES[config.model]
    overrides = {"num_classes": num_classes}
    if config.resolution:
        overrides["resolution"] = config.resolution
    if config.width:
        overrides[width_argument] = config.width
    generator = family.Generator.from_preset(config.model_preset, **overrides)
    discriminator = family.Discriminator.from_preset(config.model_preset, **overrides)
    policy = config.policy
    g_regularizer = None
    if config.pl_weight:
        g_regularizer = stylegan2.PathLengthRegularizer(
            weight=config.pl_weight, interval=config.pl_interval
        )
    gan = GAN(
        generator,
        discriminator,
        latent_dim=generator.latent_dim,
        augment=tf_diffaug.DiffAugment(policy, seed=config.seed) if policy else None,
        augment_mode=config.augment_mode if policy else "none",
        num_classes=num_classes,
        g_regularizer=g_regularizer,
        **config.select(
            "loss",
            "r1_gamma",
            "r1_interval",
            "consistency_weight",
            "ema_decay",
            "ema_start_step",
            "d_steps_per_g_step",
            "seed",
        ),
    )
    gan.compile(
        d_optimizer=adam(config, "discriminator"),
        g_optimizer=adam(config, "generator"),
        jit_compile=config.jit_compile,
    )
    return gan
