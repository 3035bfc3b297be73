"""keras_models.sampling: train.py's generate / nearest, on a stand-in exported generator."""

import numpy as np
import pytest
from PIL import Image

from keras_models import sampling


class StandInExport:
    """Images whose every pixel is tanh of the latent's first entry; records labels."""

    latent_dim = 3

    def __init__(self):
        self.labels = []

    def __call__(self, latents, label=None):
        self.labels.append(label)
        values = np.tanh(np.asarray(latents)[:, 0])
        return np.broadcast_to(values[:, None, None, None], (len(latents), 4, 4, 3)).copy()


def test_truncated_latents_stay_inside_the_threshold_and_slerp_joins_its_ends():
    rng = np.random.default_rng(0)
    z = sampling.truncated_latents(rng, 200, 8, threshold=0.5)
    assert z.shape == (200, 8) and z.dtype == np.float32 and np.abs(z).max() <= 0.5
    assert np.abs(sampling.truncated_latents(rng, 200, 8)).max() > 2  # no threshold
    a, b = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    np.testing.assert_allclose(sampling.slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(sampling.slerp(a, b, 1.0), b, atol=1e-12)
    np.testing.assert_allclose(sampling.slerp(a, b, 0.5), [np.sqrt(0.5), 2 * np.sqrt(0.5)])


def test_write_samples_grid_strip_and_single_files(tmp_path):
    export = StandInExport()
    count = sampling.write_samples(
        export, str(tmp_path / "grid.png"), num_samples=9, label=3, output_dir=str(tmp_path / "x")
    )
    assert count == 9 and export.labels == [3]
    assert Image.open(tmp_path / "grid.png").size == (3 * 4, 3 * 4)
    assert len(list((tmp_path / "x").glob("*.png"))) == 9
    sampling.write_samples(export, str(tmp_path / "strip.png"), interpolate=5)
    assert Image.open(tmp_path / "strip.png").size == (5 * 4, 4)


def test_write_nearest_puts_each_sample_beside_its_copy(tmp_path):
    export = StandInExport()
    latents = sampling.truncated_latents(np.random.default_rng(0), 8, 3)
    copies = export(latents)
    others = np.full((6, 4, 4, 3), 0.99, np.float32)
    train = np.concatenate([others, copies[::-1]])
    sampling.write_nearest(export, train, str(tmp_path / "nn.png"), k=2)
    grid = np.asarray(Image.open(tmp_path / "nn.png"))
    assert grid.shape == (8 * 4, 3 * 4, 3)
    # Column 2 (the nearest training image) equals column 1 (the sample) on every row.
    np.testing.assert_array_equal(grid[:, 4:8], grid[:, 0:4])


def test_bad_sampling_arguments_are_refused_not_hung(tmp_path):
    rng = np.random.default_rng(0)
    for threshold in (0, -1.0):  # no draw could pass: the old loop never returned
        with pytest.raises(ValueError, match="truncation > 0"):
            sampling.truncated_latents(rng, 4, 3, threshold)
    for kwargs in ({"num_samples": 0}, {"interpolate": 1}, {"interpolate": -2}):
        with pytest.raises(ValueError, match="num_samples >= 1 and interpolate"):
            sampling.write_samples(StandInExport(), str(tmp_path / "x.png"), **kwargs)


def test_a_conditional_export_needs_a_label_it_knows(tmp_path):
    from tests.helpers.toy_gan import NUM_CLASSES, compile_gan, make_gan

    gan = compile_gan(make_gan(NUM_CLASSES))
    gan.export_generator(str(tmp_path / "export"))
    export = sampling.ExportedGenerator(str(tmp_path / "export"))
    latents = sampling.truncated_latents(np.random.default_rng(0), 2, export.latent_dim)
    expected = gan.generate(latents, np.full(2, 1)).numpy()
    np.testing.assert_allclose(export(latents, 1), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="class-conditional"):
        export(latents)  # it used to give every sample label 0
    with pytest.raises(ValueError, match="Received: label=99"):
        export(latents, 99)
