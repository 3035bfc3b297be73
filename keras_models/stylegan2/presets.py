"""Named StyleGAN2 architectures: the constructor arguments of G and D per preset.

Every preset has a `"generator"` and a `"discriminator"` part
(`keras_models.backbone.Preset`), which `Generator.from_preset(name, **overrides)` and
`Discriminator.from_preset(...)` read. StyleGAN2's G and D share their scaling arguments
(`resolution`, `width` = StyleGAN2's `fmap_base`, `fmap_max`), so `_both` writes them once
for both parts. How each source trained its preset (loss, R1, batch, Adam, EMA, policy,
length) is in `keras_models.recipes`.

Sources:
    "cifar32": CIFAR-10/100 as DiffAugment trains StyleGAN2 (Zhao et al., 2020),
        mit-han-lab/data-efficient-gans DiffAugment-stylegan2/run_cifar.py defaults
        (fmap_base 2048 -> 512/512/256/128 channels at 4/8/16/32 px).
    "fewshot256": 100-shot Obama / Grumpy cat / Panda and AnimalFace cat/dog,
        DiffAugment-stylegan2/run_low_shot.py defaults (256 px, StyleGAN2's default width
        fmap_base 16384).
    "ffhq1024": FFHQ 1024 px, StyleGAN2 config F, NVlabs/stylegan2 run_training.py
        (config-f: fmap_base 16384 (fmaps=1); style mixing 0.9, the `Generator` default).
"""

from typing import Any

from keras_models.backbone import Preset


def _both(**arguments: Any) -> Preset:
    """A preset whose generator and discriminator take the same `arguments`."""
    return {"generator": dict(arguments), "discriminator": dict(arguments)}


PRESETS: dict[str, Preset] = {
    "cifar32": _both(resolution=32, width=2048, fmap_max=512),
    "fewshot256": _both(resolution=256, width=16384, fmap_max=512),
    "ffhq1024": _both(resolution=1024, width=16384, fmap_max=512),
}
