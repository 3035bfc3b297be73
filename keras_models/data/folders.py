"""Image folders as GAN input pipelines: listing, reading and decoding image files.

A folder is searched recursively for PNG, JPEG and WebP files (in sorted path order),
decoded once into memory as uint8 RGB at the target size, then fed through the shared
tail of `keras_models.data.pipeline`. The project ships one such folder, the 169 Noto
emoji faces (`FACES_DIR`, `emoji_faces()`).
"""

import concurrent.futures
import os
import warnings

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_models.data.pipeline import from_arrays

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
# The shipped Noto emoji "Smileys & Emotion" set (benchmarks/emoji_build.py rebuilds it).
FACES_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data_files", "emoji_faces")
SKIP_ADVICE = "Fix or remove it, or pass on_error='skip' to leave it out."


class UnreadableImageError(ValueError):
    """An image file that cannot be decoded: `file` names it, `reason` says why.

    Args:
        file: the file's path.
        reason: why it could not be read (the decoder's error).
        advice: what to do about it, appended to the message.
    """

    def __init__(self, file: str, reason: object, advice: str = SKIP_ADVICE):
        super().__init__(f"Could not read image file {file!r}: {reason}. {advice}")
        self.file, self.reason = file, reason


def folder_classes(path: str) -> list[str]:
    """The class names of `image_folder(path, labels=True)`: sorted sub-folder names.

    Raises:
        ValueError: when `path` has no sub-folders.
    """
    names = sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    if not names:
        raise ValueError(
            f"Expected one sub-folder per class in {path!r} for labels=True. Received: no "
            "sub-folders."
        )
    return names


def _list_images(path, labels):
    if not os.path.isdir(path):
        raise ValueError(f"Expected an image folder. Received: path={path!r} (not a folder).")
    roots = [(path, 0)]
    if labels:
        roots = [(os.path.join(path, c), i) for i, c in enumerate(folder_classes(path))]
    files = []
    for root, label in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            files += [
                (os.path.join(dirpath, f), label)
                for f in sorted(filenames)
                if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")
            ]
    if not files:
        raise ValueError(
            f"Expected images ({', '.join(IMAGE_EXTENSIONS)}) in {path!r}. Received: a folder "
            "with none (searched recursively)."
        )
    return files


def load_image(file: str, resolution: int) -> np.ndarray:
    """Reads one image file as uint8 (resolution, resolution, 3) RGB.

    Transparent pixels are composited on white (emoji and icons have transparent
    backgrounds, which would otherwise turn black), grayscale (8- and 16-bit), palette
    and CMYK images become RGB, then the image is center-cropped to a square and resized
    with Lanczos filtering (as StyleGAN's dataset tool does).

    Args:
        file: the image file.
        resolution: output side.

    Returns:
        uint8 (resolution, resolution, 3) array.

    Raises:
        ValueError: for a floating-point image (mode F), whose range is unknown.
    """
    with Image.open(file) as image:
        image.load()
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
            # 16-bit grayscale: Pillow's RGB conversion clips every value above 255, so
            # the image would turn white; scale 0..65535 to 0..255 instead.
            levels = np.asarray(image, np.float64) / 257.0
            image = Image.fromarray(np.clip(np.round(levels), 0, 255).astype(np.uint8), "L")
        elif image.mode == "F":
            raise ValueError(
                f"Expected an 8- or 16-bit image. Received: {file!r}, a 32-bit float image "
                "(mode F) whose value range is unknown; convert it to 8-bit first."
            )
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            image = image.convert("RGBA")
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, image)
        image = image.convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(image, np.uint8)


def read_images(
    path: str,
    resolution: int,
    *,
    labels: bool = False,
    on_error: str = "raise",
    num_workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Reads an image folder into memory (what `image_folder` feeds from).

    Args:
        path: the folder; searched recursively for PNG, JPEG and WebP files.
        resolution: output side.
        labels: label each image by its first-level sub-folder (see `folder_classes`).
        on_error: "raise" raises an `UnreadableImageError` (a `ValueError`) naming the
            unreadable file; "skip" leaves it out with a warning.
        num_workers: decoding threads (default: CPU count).

    Returns:
        `(images, labels, files)`: uint8 (N, resolution, resolution, 3), int32 (N,) or
        None, and the list of the N files read, in sorted path order.

    Raises:
        UnreadableImageError: for an unreadable file with `on_error="raise"`.
        ValueError: for a path that is not a folder, a folder without images (or
            without readable ones), or `labels=True` without sub-folders.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"Expected on_error in ('raise', 'skip'). Received: {on_error!r}")
    entries = _list_images(path, labels)

    def read(file):
        try:
            return load_image(file, resolution)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            if on_error == "raise":
                raise UnreadableImageError(file, error) from error
            return None

    with concurrent.futures.ThreadPoolExecutor(num_workers or os.cpu_count()) as pool:
        decoded = list(pool.map(read, [f for f, _ in entries]))
    skipped = [f for (f, _), image in zip(entries, decoded, strict=True) if image is None]
    if skipped:
        warnings.warn(f"Skipped {len(skipped)} unreadable image file(s): {skipped}", stacklevel=2)
    kept = [
        (entry, image) for entry, image in zip(entries, decoded, strict=True) if image is not None
    ]
    if not kept:
        raise ValueError(f"Expected readable images in {path!r}. Received: none could be read.")
    images = np.stack([image for _, image in kept])
    label_array = np.array([label for (_, label), _ in kept], np.int32) if labels else None
    return images, label_array, [f for (f, _), _ in kept]


def image_folder(
    path: str,
    resolution: int,
    *,
    batch_size: int = 64,
    labels: bool = False,
    x_flip: bool = False,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int = 0,
    on_error: str = "raise",
    num_workers: int | None = None,
) -> tf.data.Dataset:
    """An image folder as a GAN input pipeline (few-shot sets, the emoji set).

    ```python
    ds = keras_models.data.image_folder("data/100-shot-obama", resolution=256)
    ```

    The images are decoded once into memory as uint8 at `resolution` (see
    `read_images`), which suits the few-shot and emoji sets (100 images at 256 px take
    20 MB); for datasets that do not fit in memory, write a tfds dataset instead.

    Args:
        path: the folder (searched recursively).
        resolution: output side (center crop + Lanczos resize).
        batch_size: global batch size; the last partial batch is dropped, so the
            folder needs at least `batch_size` images when `repeat=False`.
        labels: yield `(images, labels)` with labels from first-level sub-folders.
        x_flip: random horizontal flips, seeded by `seed`.
        shuffle: full shuffle every epoch, seeded by `seed`.
        repeat: repeat forever.
        seed: seed of shuffling and flipping.
        on_error: "raise" (error naming the file) or "skip" (warning) for unreadable
            files.
        num_workers: decoding threads.

    Returns:
        A `tf.data.Dataset` of float32 (batch, resolution, resolution, 3) images in
        [-1, 1], or `(images, labels)` with `labels=True`.

    Raises:
        ValueError: as `read_images`, or for fewer than `batch_size` images with
            `repeat=False`.
    """
    images, label_array, _ = read_images(
        path, resolution, labels=labels, on_error=on_error, num_workers=num_workers
    )
    if not repeat and len(images) < batch_size:
        raise ValueError(
            f"Expected at least batch_size={batch_size} images with repeat=False (partial "
            f"batches are dropped). Received: {len(images)} images in {path!r}."
        )
    return from_arrays(
        images,
        label_array,
        batch_size=batch_size,
        x_flip=x_flip,
        shuffle=shuffle,
        repeat=repeat,
        seed=seed,
    )


def emoji_faces(resolution: int = 64, **kwargs) -> tf.data.Dataset:
    """The shipped 169-image Noto emoji "Smileys & Emotion" set (in `FACES_DIR`).

    Args:
        resolution: output side (the files are 64x64).
        **kwargs: `image_folder` arguments.

    Returns:
        The `image_folder` pipeline of the set.
    """
    return image_folder(FACES_DIR, resolution, **kwargs)
