"""Named BigGAN configurations: architecture of G and D plus the training recipe.

`Generator.from_preset(name, **overrides)` and `Discriminator.from_preset(...)` read the
"generator" / "discriminator" entries; "training" records the optimiser and schedule that
produced the published numbers, for `keras_models.GAN` and train.py to use.

`width` is BigGAN's channel multiplier `ch`; each resolution has a fixed table of
multipliers (see `model.py`), so "cifar32" with width 64 has 256 channels in every block.

Sources:
    "cifar32": the DiffAugment paper's BigGAN CIFAR-10 runs, mit-han-lab/data-efficient-gans,
        DiffAugment-biggan-cifar/scripts/DiffAugment-biggan-cifar10.sh with the defaults of
        its utils.py (G_ch = D_ch = 64, dim_z 128, no shared embedding, no hierarchical z,
        no attention, G_init = D_init = N02, batch 50, 4 D steps, G_lr = D_lr = 2e-4,
        betas (0, 0.999), --adam_eps 1e-8, --SN_eps 1e-8, EMA 0.9999 from step 1000,
        --mirror_augment, --DiffAugment translation,cutout). For CIFAR-100 override
        `num_classes=100`.
    "imagenet128": BigGAN at 128x128 on ImageNet (Brock et al., 2019, Table 1/appendix C),
        as in ajbrock/BigGAN-PyTorch scripts/launch_BigGAN_bs256x8.sh and compare_gan's
        resnet_biggan.py (ch 96, dim_z 120 hierarchical, shared embedding 128, attention
        at 64x64 in G and D, orthogonal init, G lr 1e-4, D lr 4e-4, betas (0, 0.999),
        --adam_eps 1e-6, --SN_eps 1e-6 (the script's, not utils.py's 1e-8), EMA 0.9999
        from step 20000, batch 2048); 2 D steps per G step as in the paper
        (the PyTorch script uses 1 with 8 gradient accumulations); the DiffAugment paper's
        policy for ImageNet, "translation".
"""

_N02 = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.02}}

PRESETS = {
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
        "training": {
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
        "training": {
            "batch_size": 2048,
            "d_steps_per_g_step": 2,
            "g_learning_rate": 1e-4,
            "d_learning_rate": 4e-4,
            "adam_beta_1": 0.0,
            "adam_beta_2": 0.999,
            "adam_epsilon": 1e-6,
            "loss": "hinge",
            "ema_decay": 0.9999,
            "ema_start_step": 20000,
            "x_flip": False,
            "policy": "translation",
        },
    },
}
