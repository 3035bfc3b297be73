"""`inception_input`: the authors' Inception input, pixel by pixel, without Inception weights."""

import numpy as np
import tensorflow as tf

from keras_models import metrics
from keras_models.metrics import inception


def quantise_reference(images: np.ndarray) -> np.ndarray:
    """The authors' uint8 conversion: `(x * 0.5 + 0.5) * 255 + 0.5`, clipped, truncated."""
    levels = (images.astype(np.float32) * 0.5 + 0.5) * 255 + 0.5
    return np.clip(levels, 0, 255).astype(np.uint8)


def legacy_resize_reference(images: np.ndarray, size: int) -> np.ndarray:
    """TF1's bilinear resize (`align_corners=False`, no half-pixel centres) in NumPy.

    Output pixel `i` samples the source at `i * in / out` (no half-pixel offset),
    between its floor and ceil neighbours, both clamped to the image.
    """

    def axis(in_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # The scale and coordinates in float32, as TensorFlow's kernel computes them.
        source = np.arange(size, dtype=np.float32) * np.float32(in_size / size)
        low = np.floor(source)
        high = np.clip(np.ceil(source), 0, in_size - 1).astype(int)
        return np.clip(low, 0, in_size - 1).astype(int), high, (source - low).astype(np.float64)

    y_low, y_high, y_frac = axis(images.shape[1])
    x_low, x_high, x_frac = axis(images.shape[2])
    images = images.astype(np.float64)
    y_frac, x_frac = y_frac[None, :, None, None], x_frac[None, None, :, None]
    top = images[:, y_low][:, :, x_low] * (1 - x_frac) + images[:, y_low][:, :, x_high] * x_frac
    bottom = (
        images[:, y_high][:, :, x_low] * (1 - x_frac) + images[:, y_high][:, :, x_high] * x_frac
    )
    return top * (1 - y_frac) + bottom * y_frac


def inception_input_reference(images: np.ndarray) -> np.ndarray:
    resized = legacy_resize_reference(quantise_reference(images), inception.RESOLUTION)
    return (resized - 128) / 128


def test_inception_input_is_the_legacy_resize_of_uint8_images():
    # Height and width differ, so a swapped axis fails; 32 px is CIFAR's side.
    images = np.random.default_rng(0).uniform(-1.1, 1.1, size=(3, 32, 24, 3)).astype(np.float32)
    got = metrics.inception_input(images).numpy()
    assert got.shape == (3, 299, 299, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, inception_input_reference(images), rtol=0, atol=1e-5)


def test_inception_input_quantises_by_rounding_half_up_and_clipping():
    x = np.array([-1.0, 1.0, 0.0, -1e-6, -1e-3, 0.5, -0.5, -2.0, 2.0, -0.999], np.float32)
    # 0.0 sits exactly on a rounding boundary: (0 * 0.5 + 0.5) * 255 = 127.5 -> 128.
    levels = np.array([0, 255, 128, 127, 127, 191, 64, 0, 255, 0])
    np.testing.assert_array_equal(quantise_reference(x), levels)
    # A 1x1 image resizes to a constant, so each image's output is its level's.
    got = metrics.inception_input(np.broadcast_to(x[:, None, None, None], (len(x), 1, 1, 3)))
    np.testing.assert_array_equal(
        got.numpy(), np.broadcast_to(((levels - 128) / 128)[:, None, None, None], got.shape)
    )
    # 8-bit images (as `metrics.quantize` returns them) keep their levels.
    images = metrics.quantize(np.random.default_rng(1).uniform(-1, 1, (2, 8, 8, 3)))
    levels = legacy_resize_reference(np.rint((images + 1) * 127.5), inception.RESOLUTION)
    np.testing.assert_allclose(
        metrics.inception_input(images).numpy(), (levels - 128) / 128, rtol=0, atol=1e-5
    )


def test_inception_input_is_not_the_half_pixel_resize():
    # Smooth 32 px images, quantised: the resizes differ by their sampling grids alone.
    coarse = np.random.default_rng(2).uniform(-1, 1, size=(4, 8, 8, 3)).astype(np.float32)
    images = metrics.quantize(tf.image.resize(coarse, [32, 32]).numpy())
    got = metrics.inception_input(images).numpy()
    half_pixel = tf.image.resize((images + 1) * 127.5, [299, 299], method="bilinear")
    half_pixel = (half_pixel.numpy() - 128) / 128
    # About 0.07 (signal std 0.4): thousands of times the 1e-5 the reference test allows.
    assert np.abs(got - half_pixel).mean() > 0.02
