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
from keras_models.adaptive import AdaptiveStrength
from keras_models.config import FAMILIES, FIELDS, TrainConfig
from keras_models.gan import GAN

# Each recipe: config values, its `source`, and optionally what the source scripts change
# when a subset of the data is trained (`subset`: --percent < 100 or --num_images) and
# the length as the scripts give it, in epochs of the training set (`epochs`, full data /
# subset; `train_images` is the full training split's size).
RECIPES = {
    # A short real run on the shipped 169 emoji faces at 32 px: a small unconditional
    # BigGAN that trains on 2 CPU cores in about 3 minutes. 24 faces are held out so that
    # D's overfitting signal (train vs held-out accuracy) can be shown.
    "demo": {
        "source": "this project's CPU demo (BigGAN cifar32 at width 8)",
        "config": {
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
        },
    },
    # DiffAugment-BigGAN CIFAR-10/100 (paper Table 2): 1000 (CIFAR-100: 2000) epochs of
    # the full set, 5000 epochs of a 10% / 20% subset; FID of 10k samples against the
    # test set (inception_tf.py).
    "biggan_cifar10": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-biggan-cifar/scripts/"
        "DiffAugment-biggan-cifar10.sh (subsets: -0.1.sh, -0.2.sh)",
        "config": {
            "model": "biggan",
            "model_preset": "cifar32",
            "dataset": "cifar10",
            "conditional": True,
            "fid_split": "test",
        },
        "epochs": {"full": 1000, "subset": 5000},
        "train_images": 50_000,
    },
    "biggan_cifar100": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-biggan-cifar/scripts/"
        "DiffAugment-biggan-cifar100.sh (subsets: -0.1.sh, -0.2.sh)",
        "config": {
            "model": "biggan",
            "model_preset": "cifar32",
            "dataset": "cifar100",
            "conditional": True,
            "fid_split": "test",
        },
        "epochs": {"full": 2000, "subset": 5000},
        "train_images": 50_000,
    },
    # CR-BigGAN + DiffAugment: with the full set, policy "cutout" and CR on top of it with
    # --CR_augment's default flip,translation: (D(T'(T(x))) - D(T(x)))^2; with a subset,
    # policy "translation,cutout" and --CR_augment "": (D(x) - D(T(x)))^2.
    "cr_biggan_cifar10": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-biggan-cifar/scripts/"
        "DiffAugment-cr-biggan-cifar10.sh (subsets: -0.1.sh, -0.2.sh)",
        "config": {
            "model": "biggan",
            "model_preset": "cifar32",
            "dataset": "cifar10",
            "conditional": True,
            "consistency_weight": 10.0,
            "policy": "cutout",
            "consistency_policy": "flip,translation",
            "fid_split": "test",
        },
        "subset": {"policy": "translation,cutout", "consistency_policy": ""},
        "epochs": {"full": 1000, "subset": 5000},
        "train_images": 50_000,
    },
    # DiffAugment-StyleGAN2 CIFAR-10, unconditional: the README's commands use
    # color,cutout with the full set and color,translation,cutout with --num-samples;
    # metric fid10k (10k samples, test set).
    "stylegan2_cifar10": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-stylegan2/run_cifar.py "
        "(and its README's commands)",
        "config": {
            "model": "stylegan2",
            "model_preset": "cifar32",
            "dataset": "cifar10",
            "conditional": False,
            "policy": "color,cutout",
            "fid_split": "test",
        },
        "subset": {"policy": "color,translation,cutout"},
    },
    # 100-shot Obama / Grumpy cat / Panda, AnimalFace: pass the folder of images with
    # --dataset; metric fid5k-train (5k samples against the training images).
    "stylegan2_fewshot": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-stylegan2/run_low_shot.py",
        "config": {
            "model": "stylegan2",
            "model_preset": "fewshot256",
            "conditional": False,
            "fid_split": "train",
            "num_fid_images": 5000,
        },
    },
    # BigGAN ImageNet 128 + DiffAugment "translation" (TPU).
    "biggan_imagenet128": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-biggan-imagenet "
        "(compare_gan on TPU, 200k steps at batch 2048)",
        "config": {
            "model": "biggan",
            "model_preset": "imagenet128",
            "dataset": "imagenet2012",
            "conditional": True,
            "resolution": 128,
            "kimg": 409_600,
        },
    },
}

# The demo with ADA's adaptive p driving DiffAugment (ours, not the paper's, which keeps
# p = 1). ada_kimg is scaled to the run: p can cross [0, 1] in a sixth of its 24 kimg
# (ADA's 500 kimg is meant for runs of thousands of kimg).
RECIPES["demo_adaptive"] = {
    "source": "this project's, not the paper's: the demo with an adaptive DiffAugment "
    "probability (keras_models.AdaptiveStrength, after ADA)",
    "config": {**RECIPES["demo"]["config"], "augment_p": "adaptive", "ada_kimg": 4.0},
}


def is_subset(percent, num_images):
    """Whether a run trains on part of its dataset (the scripts' -0.1 / -0.2 rows)."""
    return (percent is not None and percent < 100) or num_images is not None


def describe(config):
    """Lines saying which script a resolved config reproduces and how its length was
    derived, for train.py to print."""
    recipe = RECIPES[config.preset]
    data = "a subset" if is_subset(config.percent, config.num_images) else "the full dataset"
    lines = [f"Preset {config.preset} on {data}: {recipe['source']}."]
    if "epochs" in recipe and config.steps is None:
        epochs, images = _epochs(recipe, config.percent, config.num_images)
        if config.kimg == epochs * images / 1000:
            lines.append(f"Length: {config.kimg:g} kimg = {epochs} epochs of {images:,} images.")
    return lines


def _epochs(recipe, percent, num_images):
    """(epochs, training images) of a recipe given in epochs, for this subset."""
    epochs = recipe["epochs"]["subset" if is_subset(percent, num_images) else "full"]
    if num_images is not None:
        return epochs, num_images
    return epochs, round(recipe["train_images"] * (percent or 100) / 100)


def backbone_preset(model, model_preset):
    """The backbone preset dict of `model` ("biggan" / "stylegan2"), or {} if unknown (the
    `TrainConfig` then says what is wrong)."""
    family = FAMILIES.get(model)
    return family[0].PRESETS.get(model_preset, {}) if family else {}


def resolve(recipe, overrides=None):
    """The `TrainConfig` of `recipe` with `overrides` (a dict; None values ignored).

    The backbone preset whose training entry applies is the one the recipe or the
    overrides name (`model`, `model_preset`); `resolution` defaults to its resolution.
    With a data subset the recipe's `subset` values apply, and a recipe given in epochs
    gets its `kimg` from them (unless `kimg` or `steps` is overridden).

    Raises:
        ValueError: for an unknown recipe; `ConfigError` for unknown keys or invalid values.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown preset {recipe!r}. Valid presets are: {', '.join(RECIPES)}")
    entry = RECIPES[recipe]
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    chosen = {**entry["config"], **overrides}
    preset = backbone_preset(
        chosen.get("model", FIELDS["model"].default),
        chosen.get("model_preset", FIELDS["model_preset"].default),
    )
    training = {k: v for k, v in preset.get("training", {}).items() if k in FIELDS}
    values = {**training, **chosen, "preset": recipe}
    if values.get("resolution") is None and preset:  # the backbone preset's own resolution
        values["resolution"] = (preset.get("generator") or preset["model"])["resolution"]
    percent, num_images = values.get("percent"), values.get("num_images")
    if is_subset(percent, num_images):
        values.update({k: v for k, v in entry.get("subset", {}).items() if k not in overrides})
    if "epochs" in entry and not {"kimg", "steps"} & set(overrides):
        epochs, images = _epochs(entry, percent, num_images)
        kimg = epochs * images / 1000
        values["kimg"] = int(kimg) if kimg.is_integer() else kimg
    return TrainConfig.from_dict(values)


# --- building the GAN ------------------------------------------------------------------


def adam(config, network):
    """Adam for "generator" or "discriminator".

    Lazy regularisation adds the penalty to the loss of the step it is due in (as
    DiffAugment-stylegan2's training loop), so Adam is not rescaled; NVlabs' separate
    regularisation step with rescaled Adam is not implemented (see the README).
    """
    learning_rate = config.g_learning_rate if network == "generator" else config.d_learning_rate
    return keras.optimizers.Adam(
        learning_rate,
        beta_1=config.adam_beta_1,
        beta_2=config.adam_beta_2,
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
    policy, consistency_policy = config.policy, config.consistency_policy
    g_regularizer = None
    if config.pl_weight:
        g_regularizer = stylegan2.PathLengthRegularizer(
            weight=config.pl_weight, interval=config.pl_interval
        )
    adaptive = config.augment_p == "adaptive"
    augment_strength = None
    if adaptive:
        augment_strength = AdaptiveStrength(
            target=config.ada_target, speed_kimg=config.ada_kimg, interval=config.ada_interval
        )
    augment = None
    if policy:
        probability = 1.0 if adaptive else config.augment_p
        augment = tf_diffaug.DiffAugment(policy, probability=probability, seed=config.seed)
    gan = GAN(
        generator,
        discriminator,
        latent_dim=generator.latent_dim,
        augment=augment,
        augment_mode=config.augment_mode if policy else "none",
        augment_strength=augment_strength,
        # A stream of its own, beside the latents' (seed) and the samples' (seed + 1).
        consistency_augment=(
            tf_diffaug.DiffAugment(consistency_policy, seed=config.seed + 2)
            if consistency_policy
            else None
        ),
        num_classes=num_classes,
        g_regularizer=g_regularizer,
        frozen_discriminator_blocks=config.freeze_d,
        **config.select(
            "loss",
            "r1_gamma",
            "r1_interval",
            "r1_inputs",
            "consistency_weight",
            "fake_labels",
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
