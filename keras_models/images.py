"""Looking at generated images: grids of [-1, 1] images, PNG files, nearest neighbours.

NumPy and Pillow only: used by the training callbacks, the sampling commands and the run report.
"""

import math
import os
from collections.abc import Callable

import numpy as np
from PIL import Image

# The formats the sampling commands write, by file extension, with the largest width or
# height each stores (Pillow's JPEG encoder stops at 65,500 pixels and WebP at 16,383).
IMAGE_FORMATS = {".png": 2**31 - 1, ".jpg": 65_500, ".jpeg": 65_500, ".webp": 16_383}
# The largest grid written: Pillow refuses to open an image of more than twice its
# decompression-bomb limit (about 179 million pixels), and viewers give up sooner.
MAX_GRID_PIXELS = 2 * Image.MAX_IMAGE_PIXELS


def to_pixels(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1] as uint8 pixels (any shape)."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


class ImageGrid:
    """A grid of `count` images, laid out row by row on a white background and filled in
    batches, so that a large grid never holds its images as floats all at once.

    Attributes:
        pixels: the uint8 (rows * H, columns * W, C) grid; cells not yet filled are white.

    Args:
        count: the images the grid holds.
        image_shape: (H, W, C) of each image.
        columns: images per row (default: a square grid, ceil(sqrt(count))).
    """

    def __init__(self, count: int, image_shape: tuple[int, int, int], columns: int | None = None):
        shape = self.shape(count, image_shape, columns)
        self.columns = shape[1] // image_shape[1]
        self.pixels = np.full(shape, 255, np.uint8)
        self.filled = 0

    @staticmethod
    def shape(
        count: int, image_shape: tuple[int, int, int], columns: int | None = None
    ) -> tuple[int, int, int]:
        """(rows * H, columns * W, C) of the grid of `count` images (see the class)."""
        columns = columns or math.ceil(math.sqrt(count))
        height, width, channels = image_shape
        return math.ceil(count / columns) * height, columns * width, channels

    def add(self, images: np.ndarray) -> None:
        """Puts (N, H, W, C) images in [-1, 1] into the next N cells."""
        h, w = np.shape(images)[1:3]
        for image in to_pixels(images):
            row, column = divmod(self.filled, self.columns)
            self.pixels[row * h : (row + 1) * h, column * w : (column + 1) * w] = image
            self.filled += 1


def image_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Lays images out as one picture, row by row, on a white background.

    Args:
        images: (N, H, W, C) images in [-1, 1].
        columns: images per row (default: a square grid, ceil(sqrt(N))).

    Returns:
        uint8 (rows * H, columns * W, C) grid; cells past the last image stay white.
    """
    grid = ImageGrid(len(images), np.shape(images)[1:], columns)
    grid.add(images)
    return grid.pixels


def save_png(grid: np.ndarray, path: str) -> None:
    """Writes a uint8 HWC image (1 or 3 channels), creating its folder.

    Args:
        grid: uint8 (H, W, 1) or (H, W, 3) array, e.g. an `image_grid`.
        path: the file to write; its extension picks the format (PNG for `.png`; see
            `IMAGE_FORMATS`).
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
