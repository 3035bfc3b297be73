"""Looking at generated images: grids of [-1, 1] images, PNG files, nearest neighbours.

NumPy only: used by the training callbacks, the sampling commands and the run report.
"""

import math
import os
from collections.abc import Callable

import numpy as np
from PIL import Image


def image_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Lays images out as one picture, row by row, on a white background.

    Args:
        images: (N, H, W, C) images in [-1, 1].
        columns: images per row (default: a square grid, ceil(sqrt(N))).

    Returns:
        uint8 (rows * H, columns * W, C) grid; cells past the last image stay white.
    """
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    pixels = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    grid = np.full((rows * h, columns * w, c), 255, np.uint8)
    for i, image in enumerate(pixels):
        r, col = divmod(i, columns)
        grid[r * h : (r + 1) * h, col * w : (col + 1) * w] = image
    return grid


def save_png(grid: np.ndarray, path: str) -> None:
    """Writes a uint8 HWC image (1 or 3 channels) as PNG, creating its folder.

    Args:
        grid: uint8 (H, W, 1) or (H, W, 3) array, e.g. an `image_grid`.
        path: the PNG file to write.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)


def nearest_neighbours(
    samples: np.ndarray,
    train_images: np.ndarray,
    k: int = 3,
    feature_fn: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest training images of each sample.

    Args:
        samples: (S, H, W, C) generated images in [-1, 1].
        train_images: (N, H, W, C) training images in [-1, 1].
        k: neighbours per sample.
        feature_fn: optional `images -> (N, D) features` (e.g.
            `lambda x: inception(x)[0]`); distances are then L2 in feature space.

    Returns:
        `(indices, distances)`, both (S, k), nearest first; pixel distances are the L2
        norm over all pixels in [-1, 1] units.
    """
    if feature_fn is None:
        a = np.asarray(samples, np.float64).reshape(len(samples), -1)
        b = np.asarray(train_images, np.float64).reshape(len(train_images), -1)
    else:
        a = np.asarray(feature_fn(samples), np.float64)
        b = np.asarray(feature_fn(train_images), np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    indices = np.argsort(squared, axis=1, kind="stable")[:, :k]
    distances = np.sqrt(np.maximum(np.take_along_axis(squared, indices, axis=1), 0.0))
    return indices, distances
