"""Named training recipes for train.py: the paper's settings, and a CPU demo.

A recipe names a backbone family and preset (whose `"training"` entry carries the paper's
hyper-parameters, see `keras_models/biggan/presets.py` and
`keras_models/stylegan2/presets.py`), a dataset, and anything the recipe changes on top.
`resolve` merges, in increasing priority: the defaults below, the backbone preset's
training entry, the recipe, and the user's overrides (train.py's flags).
"""

from keras_models import biggan, stylegan2

# Backbone families, each with the constructor argument that --width sets.
FAMILIES = {"biggan": (biggan, "width"), "stylegan2": (stylegan2, "fmap_base")}

# Every key train.py understands, with its default. None means "derived" (see train.py).
DEFAULTS = {
    "model": None,
    "model_preset": None,
    "dataset": None,
    "percent": None,
    "num_images": None,
    "holdout": 0,
    "conditional": False,
    "resolution": None,
    "width": None,
    "batch_size": 32,
    "d_steps_per_g_step": 1,
    "g_learning_rate": 2e-4,
    "d_learning_rate": 2e-4,
    "adam_beta_1": 0.0,
    "adam_beta_2": 0.999,
    "adam_epsilon": 1e-7,
    "loss": "hinge",
    "r1_gamma": 0.0,
    "r1_interval": 1,
    "pl_weight": 0.0,
    "pl_interval": 4,
    "consistency_weight": 0.0,
    "ema_decay": 0.999,
    "ema_start_step": 0,
    "x_flip": False,
    "policy": "color,translation,cutout",
    "augment_mode": "diffaugment",
    "kimg": None,
    "steps": None,
    "seed": 0,
    "ckpt_every": 1000,
    "sample_every": 1000,
    "eval_every": 5000,
    "keep_checkpoints": 3,
    "num_eval_images": 2048,
    "metrics": "",
    "inception_weights": None,
    "jit_compile": True,
    "mixed_precision": None,
}

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
        config: a resolved configuration.
        network: "generator" (path length: `pl_weight`, `pl_interval`) or
            "discriminator" (R1: `r1_gamma`, `r1_interval`).

    Returns:
        c, or 1.0 when the regulariser is off or evaluated every step.
    """
    weight, interval = {
        "generator": (config["pl_weight"], config["pl_interval"]),
        "discriminator": (config["r1_gamma"], config["r1_interval"]),
    }[network]
    return interval / (interval + 1) if weight and interval > 1 else 1.0


def resolve(recipe, overrides=None):
    """The full configuration of `recipe` with `overrides` (a dict; None values ignored).

    Raises:
        ValueError: for an unknown recipe or override key.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown preset {recipe!r}. Valid presets are: {', '.join(RECIPES)}")
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"Unknown configuration keys {unknown}. Valid keys: {sorted(DEFAULTS)}")
    base = RECIPES[recipe]
    family, _ = FAMILIES[base["model"]]
    preset = family.PRESETS[base["model_preset"]]
    training = preset.get("training", {})
    config = {**DEFAULTS, **{k: v for k, v in training.items() if k in DEFAULTS}, **base}
    config.update(overrides)
    if config["resolution"] is None:  # the backbone preset's own resolution
        config["resolution"] = (preset.get("generator") or preset["model"])["resolution"]
    config["preset"] = recipe
    return config
