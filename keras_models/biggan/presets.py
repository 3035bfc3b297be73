"""Named BigGAN architectures: the constructor arguments of G and D per preset.

`Generator.from_preset(name, **overrides)` and `Discriminator.from_preset(...)` read the
"generator" / "discriminator" parts (`keras_models.backbone.Preset`); how each source
trained its preset (batch, optimiser, EMA, policy) is in `keras_models.recipes`.

`width` is BigGAN's channel multiplier `ch`; each resolution has a fixed table of
multipliers (see `model.py`), so "cifar32" with width 64 has 256 channels in every block.

Sources:
    "cifar32": the DiffAugment paper's BigGAN CIFAR-10 runs, mit-han-lab/data-efficient-gans,
        DiffAugment-biggan-cifar/scripts/DiffAugment-biggan-cifar10.sh with the defaults of
        its utils.py (G_ch = D_ch = 64, dim_z 128, no shared embedding, no hierarchical z,
        no attention, G_init = D_init = N02, --SN_eps 1e-8). For CIFAR-100 override
        `num_classes=100`.
    "imagenet128": BigGAN at 128x128 on ImageNet (Brock et al., 2019, Table 1/appendix C),
        as in ajbrock/BigGAN-PyTorch scripts/launch_BigGAN_bs256x8.sh and compare_gan's
        resnet_biggan.py (ch 96, dim_z 120 hierarchical, shared embedding 128, attention
        at 64x64 in G and D, orthogonal init, --SN_eps 1e-6 (the script's, not
        utils.py's 1e-8)).
"""

from keras_models.backbone import Preset

_N02 = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.02}}

PRESETS: dict[str, Preset] = {
    "cifar32": {
        "generator": {
            "latent_dim": 128,
            "num_classes": 10,
            "resolution": 32,
            "width": 64,
            "hierarchical_z": False,
            "shared_embedding_dim": None,
            "attention_resolutions": (),
            "kernel_initializer": _N02,
            "sn_epsilon": 1e-8,
        },
        "discriminator": {
            "num_classes": 10,
            "resolution": 32,
            "width": 64,
            "attention_resolutions": (),
            "kernel_initializer": _N02,
            "sn_epsilon": 1e-8,
        },
    },
    "imagenet128": {
        "generator": {
            "latent_dim": 120,
            "num_classes": 1000,
            "resolution": 128,
            "width": 96,
            "hierarchical_z": True,
            "shared_embedding_dim": 128,
            "attention_resolutions": (64,),
            "kernel_initializer": "orthogonal",
            "sn_epsilon": 1e-6,
        },
        "discriminator": {
            "num_classes": 1000,
            "resolution": 128,
            "width": 96,
            "attention_resolutions": (64,),
            "kernel_initializer": "orthogonal",
            "sn_epsilon": 1e-6,
        },
    },
}
