"""What StyleGAN2's generator and discriminator share: the family's presets, `width`
(StyleGAN2's `fmap_base`) and the channels it gives each resolution."""

import math

from keras_models.stylegan2.presets import PRESETS

# StyleGAN2's fmap_base (config F), the width of every full-size preset.
DEFAULT_WIDTH = 16384


def feature_maps(stage: int, fmap_base: int, fmap_max: int) -> int:
    """Channels at `stage` (resolution 2**(stage + 1)): fmap_base / 2**stage, clipped to
    [1, fmap_max]. Stage 1 is 4x4."""
    return int(min(max(fmap_base // 2**stage, 1), fmap_max))


def scaling_width(width: int | None, fmap_base: int | None) -> int:
    """The width of a StyleGAN2 backbone given as `width` or by its alias `fmap_base`
    (16384 when neither is given).

    Raises:
        ValueError: when both are given and differ.
    """
    if width is not None and fmap_base is not None and width != fmap_base:
        raise ValueError(
            "`fmap_base` is another name of `width`; pass one of them. "
            f"Received: width={width}, fmap_base={fmap_base}"
        )
    return int(width or fmap_base or DEFAULT_WIDTH)


def resolution_log2(resolution: int) -> int:
    """log2 of `resolution`.

    Raises:
        ValueError: unless `resolution` is a power of two >= 4.
    """
    log2 = int(round(math.log2(resolution))) if resolution >= 1 else 0
    if resolution < 4 or 2**log2 != resolution:
        raise ValueError(
            f"`resolution` must be a power of two >= 4. Received: resolution={resolution}"
        )
    return log2


class _StyleGAN2Model:
    """StyleGAN2's presets, and `fmap_base` as another name of `width`, for G and D."""

    family = "StyleGAN2"
    presets = PRESETS
    argument_aliases = {"fmap_base": "width"}

    @property
    def fmap_base(self) -> int:
        """StyleGAN2's name of `width`."""
        return self.width
