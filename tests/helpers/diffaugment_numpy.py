"""The paper's op formulas (README, `tf_diffaug`) in NumPy, for clarity, not speed.

The tests compare `tf_diffaug` with it on injected parameters. Everything is float64 and
loops over pixels where that makes the formula obvious.
"""

import numpy as np


def scaled_size(side, ratio):
    """int(side * ratio + 0.5), computed in float32 as the paper's code does."""
    return int(np.float32(side) * np.float32(ratio) + np.float32(0.5))


def brightness(x, b):
    return x + b[:, None, None, None]


def saturation(x, s):
    m = x.mean(axis=3, keepdims=True)
    return (x - m) * s[:, None, None, None] + m


def contrast(x, c):
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    return (x - m) * c[:, None, None, None] + m


def translation(x, t):
    """out[h, w] = x[h + ty, w + tx], zero where the source is outside."""
    out = np.zeros_like(x)
    batch, height, width, _ = x.shape
    for b in range(batch):
        ty, tx = t[b]
        for h in range(height):
            for w in range(width):
                if 0 <= h + ty < height and 0 <= w + tx < width:
                    out[b, h, w] = x[b, h + ty, w + tx]
    return out


def cutout_mask(shape, centers, ratio=0.5):
    batch, height, width = shape[:3]
    ch, cw = scaled_size(height, ratio), scaled_size(width, ratio)
    mask = np.ones((batch, height, width, 1))
    for b in range(batch):
        top, left = centers[b][0] - ch // 2, centers[b][1] - cw // 2
        mask[b, max(top, 0) : max(top + ch, 0), max(left, 0) : max(left + cw, 0)] = 0
    return mask


def cutout(x, centers, ratio=0.5):
    return x * cutout_mask(x.shape, centers, ratio)


def flip(x, f):
    return np.where(f[:, None, None, None], x[:, :, ::-1], x)


def rotate90(x, k):
    return np.stack([np.rot90(img, int(kk), axes=(0, 1)) for img, kk in zip(x, k, strict=True)])


OPS = {
    "brightness": brightness,
    "saturation": saturation,
    "contrast": contrast,
    "translation": translation,
    "cutout": cutout,
    "flip": flip,
    "rotate90": rotate90,
}


def augment(x, params, policy, cutout_ratio=0.5):
    """Applies `policy` (a list of op names) in order with the given parameters."""
    x = np.asarray(x, np.float64)
    for name in policy:
        p = np.asarray(params[name])
        y = cutout(x, p, cutout_ratio) if name == "cutout" else OPS[name](x, p)
        applied = params.get(f"{name}_applied")
        x = y if applied is None else np.where(np.asarray(applied)[:, None, None, None], y, x)
    return x
