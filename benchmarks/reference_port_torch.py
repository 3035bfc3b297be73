"""A straightforward op-by-op port of the paper's PyTorch DiffAugment, the PyTorch baseline.

It follows the reference code's approach (mit-han-lab/data-efficient-gans,
`DiffAugment_pytorch.py`) on NCHW tensors: colour ops are broadcast per-sample affine
maps; translation pads H and W by one zero pixel, builds (batch, row, column) index grids
with `torch.meshgrid`, clamps them into the padded image and indexes a channels-last view
of it, permuting back to NCHW; cutout builds the square's index grids with a meshgrid,
clamps them into the image and zeroes a ones mask through index assignment. Parameters are
passed in (same keys and conventions as `tf_diffaug.DiffAugment.get_random_transformation`,
see `tf_diffaug/registry.py`) so that both implementations do exactly the same work in the
benchmark, and `tests/benchmarks/test_reference_port_torch.py` checks the port against
`tests/helpers/diffaugment_numpy.py`.

Convention mapping. The authors' code calls the height axis (dim 2) "x" and the width
axis (dim 3) "y", so our (ty, tx) and (cy, cx) are their (translation_x, translation_y)
and (offset_x, offset_y), in that order. No sign or offset change is needed: their
translation reads padded[h + t + 1] = x[h + t], which is our out[h, w] = x[h + ty, w + tx],
and their cutout square starts at offset - size // 2, which is our cy - c // 2. The sizes
k = int(side * 0.125 + 0.5) and c = int(side * 0.5 + 0.5) are computed in float32 as in our
library (the authors use Python floats; for these ratios both are exact and agree).
"""

import torch
import torch.nn.functional as F


def _per_sample(values, x):
    return torch.as_tensor(values, device=x.device).reshape(-1, 1, 1, 1)


def _scaled(side, ratio):
    """int(side * ratio + 0.5), computed in float32 like `tf_diffaug`."""
    return int(torch.tensor(side, dtype=torch.float32) * ratio + 0.5)


def _long(values, x):
    return torch.as_tensor(values, device=x.device).long()


def brightness(x, b):
    return x + _per_sample(b, x)


def saturation(x, s):
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * _per_sample(s, x) + mean


def contrast(x, c):
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * _per_sample(c, x) + mean


def translation(x, t):
    batch, _, height, width = x.shape
    t = _long(t, x)
    shift_h, shift_w = t[:, 0].reshape(-1, 1, 1), t[:, 1].reshape(-1, 1, 1)
    arange = lambda n: torch.arange(n, dtype=torch.long, device=x.device)
    grid_b, grid_h, grid_w = torch.meshgrid(
        arange(batch), arange(height), arange(width), indexing="ij"
    )
    # Index 0 and side + 1 of the padded image are zeros: out-of-range sources land there.
    grid_h = torch.clamp(grid_h + shift_h + 1, 0, height + 1)
    grid_w = torch.clamp(grid_w + shift_w + 1, 0, width + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    channels_last = padded.permute(0, 2, 3, 1).contiguous()
    return channels_last[grid_b, grid_h, grid_w].permute(0, 3, 1, 2).contiguous()


def cutout(x, centers, ratio=0.5):
    batch, _, height, width = x.shape
    centers = _long(centers, x)
    size_h, size_w = _scaled(height, ratio), _scaled(width, ratio)
    arange = lambda n: torch.arange(n, dtype=torch.long, device=x.device)
    grid_b, grid_h, grid_w = torch.meshgrid(
        arange(batch), arange(size_h), arange(size_w), indexing="ij"
    )
    # Clamping (rather than clipping) is exact for centres in the sampler's range, where
    # the square always overlaps the image, as in the authors' code.
    grid_h = torch.clamp(grid_h + centers[:, 0].reshape(-1, 1, 1) - size_h // 2, 0, height - 1)
    grid_w = torch.clamp(grid_w + centers[:, 1].reshape(-1, 1, 1) - size_w // 2, 0, width - 1)
    mask = torch.ones(batch, height, width, dtype=x.dtype, device=x.device)
    mask[grid_b, grid_h, grid_w] = 0
    return x * mask.unsqueeze(1)


OPS = {
    "brightness": brightness,
    "saturation": saturation,
    "contrast": contrast,
    "translation": translation,
    "cutout": cutout,
}


def augment(x, params, policy=("brightness", "saturation", "contrast", "translation", "cutout")):
    """Applies the reference ops in order ("color,translation,cutout") with the given
    parameters."""
    for name in policy:
        x = OPS[name](x, params[name])
    return x


def sample(x, translation_ratio=0.125, cutout_ratio=0.5):
    """Draws parameters with torch's stateful RNG, as the paper's code does (same ranges and
    order of draws: brightness, saturation, contrast, then rows before columns)."""
    batch, _, height, width = x.shape
    shift_h, shift_w = _scaled(height, translation_ratio), _scaled(width, translation_ratio)
    size_h, size_w = _scaled(height, cutout_ratio), _scaled(width, cutout_ratio)
    uniform = lambda: torch.rand(batch, dtype=torch.float32, device=x.device)
    randint = lambda low, high: torch.randint(low, high, size=[batch], device=x.device)
    brightness_ = uniform() - 0.5
    saturation_ = uniform() * 2
    contrast_ = uniform() + 0.5
    translation_ = torch.stack(
        [randint(-shift_h, shift_h + 1), randint(-shift_w, shift_w + 1)], dim=1
    )
    cutout_ = torch.stack(
        [randint(0, height + (1 - size_h % 2)), randint(0, width + (1 - size_w % 2))], dim=1
    )
    return {
        "brightness": brightness_,
        "saturation": saturation_,
        "contrast": contrast_,
        "translation": translation_,
        "cutout": cutout_,
    }
