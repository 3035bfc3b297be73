"""The named training recipes for train.py (the papers' settings, and a CPU demo), and
how a recipe resolves to a `keras_models.config.TrainConfig`.

The recipes are the one place with training settings. `TRAINING` records how the source
of each backbone preset trained it (batch, D steps, Adam, loss, R1, EMA, x-flips, policy,
length); the backbone presets themselves (`keras_models.biggan.PRESETS`,
`keras_models.stylegan2.PRESETS`) hold only what builds the networks. A recipe
(`RECIPES`) names a backbone family and preset, a dataset, and anything it changes on
top. `resolve` merges, in increasing priority: the config's defaults, the backbone
preset's `TRAINING` entry, the recipe, and the user's overrides (train.py's flags).

`build_gan` and `adam` (the GAN a resolved config builds) live in `keras_models.build`
and stay importable from here.
"""

import math
from typing import Any

# Re-exported for one release: they live in keras_models.build now.
from keras_models.build import adam, build_gan
from keras_models.config import FIELDS, TrainConfig, measured_metrics
from keras_models.families import FAMILIES

__all__ = ["RECIPES", "TRAINING", "adam", "build_gan", "describe", "is_subset", "resolve"]

# --- how each backbone preset's source trained it -------------------------------------

# StyleGAN2's Adam, for both networks in all three presets.
_STYLEGAN2_ADAM = {
    "g_learning_rate": 0.002,
    "d_learning_rate": 0.002,
    "adam_beta_1": 0.0,
    "adam_beta_2": 0.99,
    "adam_epsilon": 1e-8,
}


def _stylegan2_ema(half_life_kimg: float, batch_size: int) -> dict[str, Any]:
    """StyleGAN2 gives the generator EMA as a half-life in thousands of images, and starts
    it after one half-life (training_loop.py: `ema_start_kimg` defaults to `G_ema_kimg`;
    before that Gs = G)."""
    return {
        "ema_decay": 0.5 ** (batch_size / (half_life_kimg * 1000)),
        "ema_start_step": math.ceil(half_life_kimg * 1000 / batch_size),
    }


# {family: {backbone preset: TrainConfig values}}: what every recipe on that backbone
# preset starts from. Adam is `Adam(g_learning_rate / d_learning_rate, adam_beta_1,
# adam_beta_2, adam_epsilon)`. StyleGAN2's `r1_interval` / `pl_interval` are the
# lazy-regularisation intervals (1 = every step, as DiffAugment's code runs); a lazy
# regulariser is added to the loss of the step it is due in, multiplied by its interval,
# as the `lazy_regularization` branch of DiffAugment-stylegan2's training_loop.py does.
# `pl_weight` 0 means no path-length regularisation. `r1_inputs` names the loss of
# DiffAugment-stylegan2/training/loss.py: "augmented" is `ns_r1_DiffAugment`, "reals" is
# `ns_DiffAugment_r1`. `subset_selection` is how the source picks a --percent /
# --num_images subset (keras_models.data.subsets): BigGAN-CIFAR's datasets.py draws it
# with `np.random.seed(seed); np.random.choice(N, n, replace=False)` ("uniform", --seed
# 0 as there); DiffAugment-stylegan2's training/dataset.py keeps the first records
# (`dset.take(max_images)`: "first").
TRAINING: dict[str, dict[str, dict[str, Any]]] = {
    "biggan": {
        # mit-han-lab/data-efficient-gans DiffAugment-biggan-cifar/scripts/
        # DiffAugment-biggan-cifar10.sh with the defaults of its utils.py: batch 50, 4 D
        # steps, G_lr = D_lr = 2e-4, betas (0, 0.999), --adam_eps 1e-8, EMA 0.9999 from
        # step 1000, --mirror_augment, --DiffAugment translation,cutout.
        "cifar32": {
            "batch_size": 50,
            "d_steps_per_g_step": 4,
            "g_learning_rate": 2e-4,
            "d_learning_rate": 2e-4,
            "adam_beta_1": 0.0,
            "adam_beta_2": 0.999,
            "adam_epsilon": 1e-8,
            "loss": "hinge",
            "ema_decay": 0.9999,
            "ema_start_step": 1000,
            "x_flip": True,
            "policy": "translation,cutout",
            "subset_selection": "uniform",
        },
        # BigGAN at 128x128 on ImageNet (Brock et al., 2019) as the paper trained it:
        # DiffAugment-biggan-imagenet's gin files on compare_gan. G lr 1e-4, D lr 4e-4
        # (2e-4 on 50% and 25% of the data: the recipe's `subset`), betas (0, 0.999),
        # tf.train.AdamOptimizer's epsilon 1e-8, 2 D steps per G step, batch 2048, and
        # compare_gan's ModularGAN EMA (decay 0.9999 from step 40000); policy
        # "translation".
        "imagenet128": {
            "batch_size": 2048,
            "d_steps_per_g_step": 2,
            "g_learning_rate": 1e-4,
            "d_learning_rate": 4e-4,
            "adam_beta_1": 0.0,
            "adam_beta_2": 0.999,
            "adam_epsilon": 1e-8,
            "loss": "hinge",
            "ema_decay": 0.9999,
            "ema_start_step": 40000,
            "x_flip": False,
            "policy": "translation",
        },
    },
    "stylegan2": {
        # DiffAugment-stylegan2/run_cifar.py defaults: gamma 0.1, batch 32, mirror
        # augment, no lazy or path-length regularisation. Policy: the README's
        # "color,translation,cutout" for 10%/20% data (100% data uses "color,cutout").
        "cifar32": {
            "loss": "non_saturating",
            "r1_gamma": 0.1,
            "r1_interval": 1,
            "r1_inputs": "augmented",
            "pl_weight": 0.0,
            "batch_size": 32,
            "x_flip": True,
            "policy": "color,translation,cutout",
            "kimg": 25000,
            "subset_selection": "first",
            **_stylegan2_ema(1000, 32),
            **_STYLEGAN2_ADAM,
        },
        # DiffAugment-stylegan2/run_low_shot.py defaults: batch 16, 300 kimg, gamma 10
        # from training/loss.py, whose loss there is ns_DiffAugment_r1 (R1 with respect
        # to the un-augmented reals); mirror augment, EMA half-life 10 kimg from
        # training_loop.py.
        "fewshot256": {
            "loss": "non_saturating",
            "r1_gamma": 10.0,
            "r1_interval": 1,
            "r1_inputs": "reals",
            "pl_weight": 0.0,
            "batch_size": 16,
            "x_flip": True,
            "policy": "color,translation,cutout",
            "kimg": 300,
            "subset_selection": "first",
            **_stylegan2_ema(10, 16),
            **_STYLEGAN2_ADAM,
        },
        # NVlabs/stylegan2 run_training.py config-f: batch 32, gamma 10, lazy R1 every 16
        # D steps, path-length weight 2 every 4 G steps, mirror augment, 25000 kimg, EMA
        # half-life 10 kimg. A GPU/TPU configuration; DiffAugment policy and loss
        # (ns_r1_DiffAugment) for few-image FFHQ as in run_ffhq.py of
        # DiffAugment-stylegan2. Lazy regularisation follows DiffAugment-stylegan2's
        # training_loop.py: the penalty is added inside the loss step it is due in, so
        # Adam is not rescaled (NVlabs runs it as a separate step and rescales Adam by
        # c = interval / (interval + 1); see docs/differences.md).
        "ffhq1024": {
            "loss": "non_saturating",
            "r1_gamma": 10.0,
            "r1_interval": 16,
            "r1_inputs": "augmented",
            "pl_weight": 2.0,
            "pl_interval": 4,
            "batch_size": 32,
            "x_flip": True,
            "policy": "color,translation,cutout",
            "kimg": 25000,
            "subset_selection": "first",
            **_stylegan2_ema(10, 32),
            **_STYLEGAN2_ADAM,
        },
    },
}

# --- the recipes ------------------------------------------------------------------------

# How the authors' scripts report FID (with Inception weights; `resolve` drops the
# Inception metrics without them). DiffAugment-biggan-cifar (train.py, train_fns.py,
# scripts/*.sh): FID of 10k EMA samples against the test split every 4,000 iterations
# (one iteration: 4 D steps and a G step, our train step), best weights by FID
# (--which_best FID). Both draw new latents and labels at every evaluation.
_BIGGAN_CIFAR_EVALUATION = {
    "metrics": "fid",
    "eval_every": 4000,
    "best_metric": "fid",
    "eval_fakes": "fresh",
}
# DiffAugment-stylegan2 (training/training_loop.py): the metrics run at every network
# snapshot, every 10 ticks of 20 kimg at 32 px and 10 kimg at 256 px (200 and 100 kimg:
# 6,250 steps at the presets' batches of 32 and 16), and pick no best weights.
_STYLEGAN2_EVALUATION = {"eval_every": 6250, "best_metric": "none", "eval_fakes": "fresh"}

# Each recipe: config values, its `source`, and optionally what the source scripts change
# when a subset of the data is trained (`subset`: --percent < 100 or --num_images) and
# the length as the scripts give it, in epochs of the training set (`epochs`, full data /
# subset; `train_images` is the full training split's size).
RECIPES: dict[str, dict[str, Any]] = {
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
            **_BIGGAN_CIFAR_EVALUATION,
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
            **_BIGGAN_CIFAR_EVALUATION,
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
            **_BIGGAN_CIFAR_EVALUATION,
        },
        "subset": {"policy": "translation,cutout", "consistency_policy": ""},
        "epochs": {"full": 1000, "subset": 5000},
        "train_images": 50_000,
    },
    "cr_biggan_cifar100": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-biggan-cifar/scripts/"
        "DiffAugment-cr-biggan-cifar100.sh (subsets: -0.1.sh, -0.2.sh)",
        "config": {
            "model": "biggan",
            "model_preset": "cifar32",
            "dataset": "cifar100",
            "conditional": True,
            "consistency_weight": 10.0,
            "policy": "cutout",
            "consistency_policy": "flip,translation",
            "fid_split": "test",
            **_BIGGAN_CIFAR_EVALUATION,
        },
        "subset": {"policy": "translation,cutout", "consistency_policy": ""},
        "epochs": {"full": 2000, "subset": 5000},
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
            "metrics": "fid,is",  # fid10k and is10k
            **_STYLEGAN2_EVALUATION,
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
            "metrics": "fid",  # fid5k-train
            **_STYLEGAN2_EVALUATION,
        },
    },
    # AnimalFace (cat, dog): the few-shot recipe trained 500 kimg, as the authors'
    # README command for it does.
    "stylegan2_animalface": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-stylegan2/run_low_shot.py "
        "with --total-kimg=500 (its README's AnimalFace commands)",
        "config": {
            "model": "stylegan2",
            "model_preset": "fewshot256",
            "conditional": False,
            "fid_split": "train",
            "num_fid_images": 5000,
            "metrics": "fid",  # fid5k-train
            "kimg": 500,
            **_STYLEGAN2_EVALUATION,
        },
    },
    # BigGAN ImageNet 128 + DiffAugment "translation" (TPU): 250k steps of the full set,
    # 150k of 50% and 60k of 25% (`steps_by_percent`), each with its gin file's D lr.
    "biggan_imagenet128": {
        "source": "mit-han-lab/data-efficient-gans DiffAugment-biggan-imagenet/"
        "DiffAugment_configs/DiffAugment-biggan-imagenet128.gin (-0.5.gin, -0.25.gin) on "
        "compare_gan",
        "config": {
            "model": "biggan",
            "model_preset": "imagenet128",
            "dataset": "imagenet2012",
            "conditional": True,
            "resolution": 128,
        },
        "subset": {"d_learning_rate": 2e-4},
        "steps_by_percent": {100: 250_000, 50: 150_000, 25: 60_000},
    },
}

# The demo with ADA's adaptive p driving DiffAugment (ours, not the paper's, which keeps
# p = 1). ada_kimg is scaled to the run: p can cross [0, 1] in a sixth of its 24 kimg
# (ADA's 500 kimg is meant for runs of thousands of kimg). The r_t target is calibrated
# for this D: without augmentation its r_t never reaches ADA's 0.6, not even where it
# memorises (at most 0.44 on 100 images), and stays <= 0.08 on 1,511 images, where it
# does not; 0.1 is just above that (docs/experiments.md, the adaptive experiment).
RECIPES["demo_adaptive"] = {
    "source": "this project's, not the paper's: the demo with an adaptive DiffAugment "
    "probability (keras_models.AdaptiveStrength, after ADA)",
    "config": {
        **RECIPES["demo"]["config"],
        "augment_p": "adaptive",
        "ada_kimg": 4.0,
        "ada_target": 0.1,
    },
}

# LeCam + DiffAugment BigGAN CIFAR-10/100 (Tseng et al., 2021, Table 2's DA + LeCam
# rows): google/lecam-gan's scripts are DiffAugment's (the same BigGAN-PyTorch flags,
# lengths and subsets, --num_samples drawn by datasets.py as DiffAugment's) with
# --LC 0.3, and the anchors of biggan_cifar/train.py (`ema_losses(start_itr=1000)`:
# init 1000, decay 0.9).
for _cifar in ("cifar10", "cifar100"):
    RECIPES[f"lecam_biggan_{_cifar}"] = {
        **RECIPES[f"biggan_{_cifar}"],
        "source": f"google/lecam-gan biggan_cifar/scripts/lc-DiffAugment-biggan-{_cifar}.sh "
        "(subsets: -0.1.sh, -0.2.sh)",
        "config": {
            **RECIPES[f"biggan_{_cifar}"]["config"],
            "lecam_weight": 0.3,
            "lecam_decay": 0.9,
            "lecam_start_step": 1000,
        },
    }


def is_subset(percent: float | None, num_images: int | None) -> bool:
    """Whether a run trains on part of its dataset (the scripts' -0.1 / -0.2 rows).

    Args:
        percent: the percentage of the training split used, None for all of it.
        num_images: the number of training images used, None for all of them.
    """
    return (percent is not None and percent < 100) or num_images is not None


def describe(config: TrainConfig) -> list[str]:
    """What a resolved config reproduces, for train.py to print.

    Args:
        config: a config from `resolve`.

    Returns:
        Lines naming the recipe's source script and, for a recipe given in epochs, how
        its length was derived.
    """
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


def _preset_resolution(model, model_preset):
    """The image side backbone preset `model_preset` of family `model` builds, or None if
    either is unknown (the `TrainConfig` then says what is wrong)."""
    presets = FAMILIES[model].PRESETS if model in FAMILIES else {}
    return presets[model_preset]["generator"]["resolution"] if model_preset in presets else None


def resolve(recipe: str, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The `TrainConfig` of a recipe with overrides.

    The backbone preset whose `TRAINING` entry applies is the one the recipe or the
    overrides name (`model`, `model_preset`); `resolution` defaults to its resolution.
    With a data subset the recipe's `subset` values apply, and a recipe given in epochs
    gets its `kimg` from them, one given in steps per percentage of the data
    (`steps_by_percent`) its `steps` (unless `kimg` or `steps` is overridden).

    Args:
        recipe: a key of `RECIPES`, e.g. "biggan_cifar10".
        overrides: `TrainConfig` field values that win over the recipe's (train.py's
            flags); None values are ignored.

    Returns:
        The validated config.

    Raises:
        ValueError: for an unknown recipe, or a subset whose length the recipe's source
            does not give (pass `steps` or `kimg`); `ConfigError` for unknown keys or
            invalid values.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown preset {recipe!r}. Valid presets are: {', '.join(RECIPES)}")
    entry = RECIPES[recipe]
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    chosen = {**entry["config"], **overrides}
    model = chosen.get("model", FIELDS["model"].default)
    model_preset = chosen.get("model_preset", FIELDS["model_preset"].default)
    values = {**TRAINING.get(model, {}).get(model_preset, {}), **chosen, "preset": recipe}
    if values.get("resolution") is None:  # the backbone preset's own resolution
        values["resolution"] = _preset_resolution(model, model_preset)
    percent, num_images = values.get("percent"), values.get("num_images")
    if is_subset(percent, num_images):
        values.update({k: v for k, v in entry.get("subset", {}).items() if k not in overrides})
    lengths = entry.get("steps_by_percent", {})
    if lengths and not {"kimg", "steps"} & set(overrides):
        if num_images is not None or (percent or 100) not in lengths:
            listed = ", ".join(f"{p}%" for p in lengths)
            raise ValueError(
                f"Preset {recipe!r} has its source's lengths for {listed} of the data only. "
                "Give --steps or --kimg for this subset."
            )
        values["steps"] = lengths[percent or 100]
    if "epochs" in entry and not {"kimg", "steps"} & set(overrides):
        epochs, images = _epochs(entry, percent, num_images)
        kimg = epochs * images / 1000
        values["kimg"] = int(kimg) if kimg.is_integer() else kimg
    if _needs_missing_weights(entry, values, overrides):
        # The paper's FID needs Inception weights; without them the run measures SWD
        # only, and `evaluation` says so (the offline emoji features are no stand-in
        # for Inception on the paper's data).
        values["metrics"] = ""
    best = values.get("best_metric", FIELDS["best_metric"].default)
    if "best_metric" not in overrides and best not in {
        *measured_metrics(values.get("metrics", "")),
        "none",
    }:
        values["best_metric"] = "swd"  # the recipe's pick is not measured in this run
    return TrainConfig.from_dict(values)


def _needs_missing_weights(entry, values, overrides):
    """Whether a recipe's own metrics need the Inception weights the run lacks."""
    return (
        bool(entry["config"].get("metrics"))
        and "metrics" not in overrides
        and not values.get("inception_weights")
        and values.get("feature_extractor", "auto") != "emoji"
    )


def evaluation(config: TrainConfig) -> list[str]:
    """What a run evaluates, and which metric picks its best weights, for the start-up
    summary and the report.

    Args:
        config: a config from `resolve`.

    Returns:
        One line, and a second saying that no FID will be reported when the recipe's
        metrics were dropped for want of Inception weights.
    """
    metrics = ["swd", *(m for m in config.metrics.split(",") if m)]
    best = (
        "no best weights kept"
        if config.best_metric == "none"
        else f"best weights by {config.best_metric}"
    )
    feature = (
        f" ({config.num_fid_images:,} EMA samples vs the {config.fid_split or 'default'} split)"
        if config.metrics
        else ""
    )
    lines = [
        f"Evaluation: {', '.join(metrics)} every {config.eval_every:,} steps{feature}; {best}."
    ]
    wanted = RECIPES.get(config.preset, {}).get("config", {}).get("metrics")
    if wanted and not config.metrics:
        lines.append(
            f"No FID: preset {config.preset} reports {wanted.upper().replace(',', ' and ')} "
            "as the paper does only with "
            "--inception_weights=PATH (classify_image_graph_def.pb from Google's "
            "inception-2015-12-05.tgz); this run measures SWD only."
        )
    return lines
