"""Named StyleGAN2 configurations: architecture plus the training recipe they came with.

Each preset has a `"model"` part (arguments shared by `Generator` and `Discriminator`;
`width` is StyleGAN2's `fmap_base`),
optional `"generator"` / `"discriminator"` parts, and a `"training"` part recording how
the source trained it (for `keras_models.GAN`, `train.py` and users; the backbones
ignore it), with the same keys as the BigGAN presets: Adam is
`Adam(g_learning_rate / d_learning_rate, adam_beta_1, adam_beta_2, adam_epsilon)`, and the
generator EMA (`ema_decay`, `ema_start_step`) comes from StyleGAN2's half-life in
thousands of images (`_ema`). `r1_interval` / `pl_interval` are the lazy-regularisation
intervals (1 = every step, as DiffAugment's code runs); a lazy regulariser is added to
the loss of the step it is due in, multiplied by its interval, as the
`lazy_regularization` branch of DiffAugment-stylegan2's training_loop.py does.
`pl_weight` 0 means no path-length regularisation. `r1_inputs` names the loss of
DiffAugment-stylegan2/training/loss.py: "augmented" is `ns_r1_DiffAugment`, "reals" is
`ns_DiffAugment_r1`.
"""

import copy
import math

_ADAM = {
    "g_learning_rate": 0.002,
    "d_learning_rate": 0.002,
    "adam_beta_1": 0.0,
    "adam_beta_2": 0.99,
    "adam_epsilon": 1e-8,
}


def _ema(half_life_kimg, batch_size):
    """StyleGAN2 gives the generator EMA as a half-life in thousands of images, and starts
    it after one half-life (training_loop.py: `ema_start_kimg` defaults to `G_ema_kimg`;
    before that Gs = G)."""
    return {
        "ema_decay": 0.5 ** (batch_size / (half_life_kimg * 1000)),
        "ema_start_step": math.ceil(half_life_kimg * 1000 / batch_size),
    }


PRESETS = {
    # CIFAR-10/100 as DiffAugment trains StyleGAN2 (Zhao et al., 2020): source
    # mit-han-lab/data-efficient-gans, DiffAugment-stylegan2/run_cifar.py defaults
    # (fmap_base 2048 -> 512/512/256/128 channels at 4/8/16/32 px, gamma 0.1, batch 32,
    # mirror augment, no lazy or path-length regularisation). Policy: the README's
    # "color,translation,cutout" for 10%/20% data (100% data uses "color,cutout").
    "cifar32": {
        "model": {"resolution": 32, "width": 2048, "fmap_max": 512},
        "training": {
            "loss": "non_saturating",
            "r1_gamma": 0.1,
            "r1_interval": 1,
            "r1_inputs": "augmented",
            "pl_weight": 0.0,
            "batch_size": 32,
            "x_flip": True,
            "policy": "color,translation,cutout",
            "kimg": 25000,
            **_ema(1000, 32),
            **_ADAM,
        },
    },
    # 100-shot Obama / Grumpy cat / Panda and AnimalFace cat/dog: source
    # mit-han-lab/data-efficient-gans, DiffAugment-stylegan2/run_low_shot.py defaults
    # (256 px, StyleGAN2 default width fmap_base 16384, batch 16, 300 kimg, gamma 10 from
    # training/loss.py, whose loss there is ns_DiffAugment_r1: R1 with respect to the
    # un-augmented reals; mirror augment, EMA half-life 10 kimg from training_loop.py).
    "fewshot256": {
        "model": {"resolution": 256, "width": 16384, "fmap_max": 512},
        "training": {
            "loss": "non_saturating",
            "r1_gamma": 10.0,
            "r1_interval": 1,
            "r1_inputs": "reals",
            "pl_weight": 0.0,
            "batch_size": 16,
            "x_flip": True,
            "policy": "color,translation,cutout",
            "kimg": 300,
            **_ema(10, 16),
            **_ADAM,
        },
    },
    # FFHQ 1024 px, StyleGAN2 config F: source NVlabs/stylegan2 run_training.py
    # (config-f: fmap_base 16384 (fmaps=1), batch 32, gamma 10, lazy R1 every 16 D steps,
    # path-length weight 2 every 4 G steps, style mixing 0.9, mirror augment, 25000 kimg,
    # EMA half-life 10 kimg). A GPU/TPU configuration; DiffAugment policy and loss
    # (ns_r1_DiffAugment) for few-image FFHQ as in run_ffhq.py of DiffAugment-stylegan2.
    # Lazy regularisation follows DiffAugment-stylegan2's training_loop.py: the penalty is
    # added inside the loss step it is due in, so Adam is not rescaled (NVlabs runs it as
    # a separate step and rescales Adam by c = interval / (interval + 1); see the README's
    # differences table).
    "ffhq1024": {
        "model": {"resolution": 1024, "width": 16384, "fmap_max": 512},
        "training": {
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
            **_ema(10, 32),
            **_ADAM,
        },
    },
}


def preset_kwargs(name, part, overrides=None):
    """Constructor arguments of preset `name` for `part` ("generator" or
    "discriminator"), updated with `overrides`."""
    if name not in PRESETS:
        raise ValueError(
            f"Unknown StyleGAN2 preset. Expected one of {sorted(PRESETS)}. Received: name={name!r}"
        )
    preset = copy.deepcopy(PRESETS[name])
    return {**preset["model"], **preset.get(part, {}), **(overrides or {})}
