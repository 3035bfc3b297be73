"""The colour algebra: any run of brightness, saturation and contrast is one affine map.

Each color op maps y to an affine function of the same form, so any run of them composes
into one per-sample affine map of the input x:

    y = scale * x + pixel_mix * mean_c(x) + image_mix * mean_hwc(x) + offset

(mean_c over the channels of a pixel, mean_hwc over the whole image). Composing costs
nothing but a few (B,) products; `transform.py` then applies the map with one reduction
(the image mean) and one pass over the pixels, with the same result as applying the ops
one by one. Only coefficients live here; no pixel is touched.
"""

import dataclasses

from keras import ops

from tf_diffaug.backend import Tensor


@dataclasses.dataclass(frozen=True)
class ColorAffine:
    """Per-sample coefficients (each a (B,) float32 tensor) of the affine color map above.

    `pixel_mix` and `image_mix` are None while structurally zero, so that a lone
    brightness op computes no mean at all.
    """

    scale: Tensor
    offset: Tensor
    pixel_mix: Tensor | None = None
    image_mix: Tensor | None = None

    @classmethod
    def identity(cls, like: Tensor) -> "ColorAffine":
        """y = x, with coefficients shaped like the (B,) tensor `like`."""
        return cls(scale=ops.ones_like(like, "float32"), offset=ops.zeros_like(like, "float32"))

    def brightness(self, b: Tensor) -> "ColorAffine":
        """Then y + b."""
        return dataclasses.replace(self, offset=self.offset + b)

    def saturation(self, s: Tensor) -> "ColorAffine":
        """Then (y - m) * s + m, m = mean_c(y): only the part of y orthogonal to mean_c
        scales."""
        pixel_mix = (1.0 - s) * self.scale
        if self.pixel_mix is not None:
            pixel_mix += self.pixel_mix
        return dataclasses.replace(self, scale=s * self.scale, pixel_mix=pixel_mix)

    def contrast(self, c: Tensor) -> "ColorAffine":
        """Then (y - m) * c + m, m = mean_hwc(y) = (scale + pixel_mix) mean_hwc(x) + ... +
        offset."""
        total = self.scale if self.pixel_mix is None else self.scale + self.pixel_mix
        image_mix = (1.0 - c) * total
        if self.image_mix is not None:
            image_mix += self.image_mix
        return ColorAffine(
            scale=c * self.scale,
            offset=self.offset,
            pixel_mix=None if self.pixel_mix is None else c * self.pixel_mix,
            image_mix=image_mix,
        )
