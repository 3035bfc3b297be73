"""Multi-scale sliced Wasserstein distance (SWD), as ProGAN (Karras et al., 2018) defines it.

It compares the distributions of local image patches at several scales and needs no
pre-trained network, so it can report a quality number on any machine. Definition
(ProGAN's `metrics/sliced_wasserstein.py`), per scale of a Laplacian pyramid whose
coarsest level is 16 px (32 px images: scales 32 and 16; 64 px: 64, 32, 16):

1. descriptors: 128 random 7x7 patches per image (centres at least 3 px from the
   border), each flattened to a 7*7*C vector. Both sets take their patches at the same
   positions (image i of each set at the same 128 centres), so that a set compared with
   an exact copy of itself is exactly 0. ProGAN draws the positions of each set
   independently; since positions never depend on the images, sharing them leaves the
   distribution of each set's descriptors (and so the distance between two independent
   sets) as ProGAN's, and only removes the distance that patch sampling alone adds;
2. each set's descriptors are normalised per channel (mean 0, std 1 over all its
   patches and pixels); a constant channel (e.g. a collapsed generator's) stays 0,
   where ProGAN's division by a zero std gives NaN;
3. distance: for 4 repeats, 128 random unit directions; project both sets, sort each
   projection, average |sorted_real - sorted_fake|; average over repeats;
4. each scale's distance is multiplied by 1e3; the result is their mean ("SWDx1e3_avg").

The Laplacian pyramid uses the 5x5 binomial filter of `cv2.pyrDown` / `cv2.pyrUp` with
mirrored borders. Randomness (patch positions, then directions, per scale) comes from
`numpy.random.default_rng(seed)`, so a call is deterministic.
"""

import numpy as np
import numpy.typing as npt

PATCH_SIZE = 7
PATCHES_PER_IMAGE = 128
DIRECTION_REPEATS = 4
DIRECTIONS_PER_REPEAT = 128
MIN_RESOLUTION = 16

_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16.0


def _blur(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Separable 5x5 filter over H and W of NHWC images, mirrored borders (d c b|a b c)."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    h, w = images.shape[1:3]
    rows = sum(k * padded[:, i : i + h] for i, k in enumerate(kernel))
    return sum(k * rows[:, :, i : i + w] for i, k in enumerate(kernel))


def pyramid_down(images: np.ndarray) -> np.ndarray:
    """Blur then keep every other pixel (`cv2.pyrDown`)."""
    return _blur(images, _BINOMIAL)[:, ::2, ::2]


def pyramid_up(images: np.ndarray) -> np.ndarray:
    """Zero-insert upsampling then blur with 4x the filter (`cv2.pyrUp`)."""
    n, h, w, c = images.shape
    up = np.zeros((n, 2 * h, 2 * w, c), images.dtype)
    up[:, ::2, ::2] = images
    return _blur(up, _BINOMIAL * 2.0)  # 2 per axis = 4 in 2-D


def laplacian_pyramid(images: npt.ArrayLike, num_levels: int) -> list[np.ndarray]:
    """Levels from fine to coarse; the last one is the low-pass residual."""
    levels = [np.asarray(images, np.float32)]
    for _ in range(num_levels - 1):
        coarse = pyramid_down(levels[-1])
        levels[-1] = levels[-1] - pyramid_up(coarse)
        levels.append(coarse)
    return levels


def _patch_centres(
    num_images: int, side: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`PATCHES_PER_IMAGE` random centres per image, >= 3 px from the border: (ys, xs)."""
    half = PATCH_SIZE // 2
    count = num_images * PATCHES_PER_IMAGE
    ys = rng.integers(half, side - half, size=count)
    xs = rng.integers(half, side - half, size=count)
    return ys, xs


def _descriptors(level: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The 7x7 patches at centres (ys, xs), normalised per channel; (num_patches, 7*7*C)."""
    half = PATCH_SIZE // 2
    count = len(ys)
    image = np.repeat(np.arange(len(level)), PATCHES_PER_IMAGE)[:, None, None]
    ys, xs = ys[:, None, None], xs[:, None, None]
    offsets = np.arange(-half, half + 1)
    patches = level[image, ys + offsets[None, :, None], xs + offsets[None, None, :]]
    patches = patches - patches.mean(axis=(0, 1, 2))
    std = patches.std(axis=(0, 1, 2))
    patches = patches / np.where(std > 0, std, 1.0)
    return patches.reshape(count, -1)


def _sliced_distance(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Mean over repeats and directions of the 1-D Wasserstein-1 distance."""
    results = []
    for _ in range(DIRECTION_REPEATS):
        directions = rng.standard_normal((a.shape[1], DIRECTIONS_PER_REPEAT))
        directions /= np.linalg.norm(directions, axis=0, keepdims=True)
        directions = directions.astype(np.float32)
        proj_a = np.sort(a @ directions, axis=0)
        proj_b = np.sort(b @ directions, axis=0)
        results.append(np.mean(np.abs(proj_a - proj_b), dtype=np.float64))
    return float(np.mean(results))


def _check(images: npt.ArrayLike, name: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != images.shape[2] or images.shape[1] < 16:
        raise ValueError(
            f"Expected {name} as square NHWC images of side >= {MIN_RESOLUTION}. "
            f"Received: shape {images.shape}"
        )
    return images


def sliced_wasserstein_per_scale(
    real_images: npt.ArrayLike, fake_images: npt.ArrayLike, seed: int = 0
) -> dict[int, float]:
    """SWD (x1e3) at each pyramid scale.

    Args:
        real_images: (N, H, H, C) images; any value range (descriptors are normalised).
        fake_images: images of the same shape. If the counts differ, both sets are cut
            to the smaller count (the definition compares equal numbers of patches).
        seed: seed of patch positions (shared by both sets) and directions.

    Returns:
        A dict `{resolution: distance x 1e3}` from finest to coarsest.
    """
    real = _check(real_images, "real_images")
    fake = _check(fake_images, "fake_images")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(
            f"Expected real and fake images of one shape. Received: {real.shape} and {fake.shape}"
        )
    count = min(len(real), len(fake))
    resolutions = []
    side = real.shape[1]
    while side >= MIN_RESOLUTION:
        resolutions.append(side)
        side //= 2
    rng = np.random.default_rng(seed)
    real_levels = laplacian_pyramid(real[:count], len(resolutions))
    fake_levels = laplacian_pyramid(fake[:count], len(resolutions))
    per_scale = {}
    for res, r, f in zip(resolutions, real_levels, fake_levels, strict=True):
        ys, xs = _patch_centres(count, res, rng)
        per_scale[res] = 1e3 * _sliced_distance(
            _descriptors(r, ys, xs), _descriptors(f, ys, xs), rng
        )
    return per_scale


def sliced_wasserstein(
    real_images: npt.ArrayLike, fake_images: npt.ArrayLike, seed: int = 0
) -> float:
    """Multi-scale SWD (x1e3, averaged over scales); lower is better.

    Args:
        real_images: (N, H, H, C) images, e.g. in [-1, 1]; H >= 16.
        fake_images: images of the same shape.
        seed: seed of patch positions and directions (deterministic for a given seed).

    Returns:
        The mean over scales of ProGAN's "SWDx1e3" values, as a Python float.
    """
    per_scale = sliced_wasserstein_per_scale(real_images, fake_images, seed)
    return float(np.mean(list(per_scale.values())))
