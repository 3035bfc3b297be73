"""keras_models.sampling: train.py's generate / nearest, on a stand-in exported generator."""

import re

import numpy as np
import pytest
from PIL import Image

from keras_models import sampling


class StandInExport:
    """Images whose every pixel is tanh of the latent's first entry; records the labels and
    batch sizes of its calls."""

    latent_dim = 3
    image_shape = (4, 4, 3)

    def __init__(self):
        self.labels, self.batches = [], []

    def __call__(self, latents, label=None):
        self.labels.append(label)
        self.batches.append(len(latents))
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


@pytest.fixture(scope="module")
def conditional_export(tmp_path_factory):
    """A tiny class-conditional GAN and its export's `ExportedGenerator`."""
    from tests.helpers.toy_gan import NUM_CLASSES, compile_gan, make_gan

    gan = compile_gan(make_gan(NUM_CLASSES))
    path = str(tmp_path_factory.mktemp("conditional") / "export")
    gan.export_generator(path)
    return gan, sampling.ExportedGenerator(path)


def test_a_conditional_export_needs_a_label_it_knows(conditional_export):
    gan, export = conditional_export
    assert export.image_shape == (8, 8, 3)
    latents = sampling.truncated_latents(np.random.default_rng(0), 2, export.latent_dim)
    expected = gan.generate(latents, np.full(2, 1)).numpy()
    np.testing.assert_allclose(export(latents, 1), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="class-conditional"):
        export(latents)  # it used to give every sample label 0
    with pytest.raises(ValueError, match="Received: label=99"):
        export(latents, 99)


def test_a_saved_model_that_is_not_a_generators_export_is_refused(tmp_path):
    import tensorflow as tf

    tf.saved_model.save(tf.Module(), str(tmp_path))
    with pytest.raises(ValueError, match="Expected a generator's export .* without one"):
        sampling.ExportedGenerator(str(tmp_path))  # was a KeyError: 'serving_default'


def read_pngs(folder):
    return [np.asarray(Image.open(path)) for path in sorted(folder.glob("*.png"))]


def test_samples_are_generated_in_batches_that_do_not_change_them(conditional_export, tmp_path):
    # One call on 100,000 latents crashed inside TensorFlow; the latents are drawn at once,
    # so the images do not depend on the batch size.
    _, export = conditional_export
    for name, batch_size in (("batched", 3), ("whole", 256)):
        count = sampling.write_samples(
            export,
            str(tmp_path / f"{name}.png"),
            num_samples=10,
            label=1,
            output_dir=str(tmp_path / name),
            batch_size=batch_size,
        )
        assert count == 10
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "batched.png")),
        np.asarray(Image.open(tmp_path / "whole.png")),
    )
    batched, whole = read_pngs(tmp_path / "batched"), read_pngs(tmp_path / "whole")
    assert len(batched) == 10
    np.testing.assert_array_equal(batched, whole)
    stand_in = StandInExport()
    sampling.write_samples(stand_in, str(tmp_path / "grid.png"), num_samples=10, batch_size=3)
    assert stand_in.batches == [3, 3, 3, 1]


def test_a_grid_too_large_is_refused_before_generating_and_files_alone_are_written(tmp_path):
    export = StandInExport()
    # 10 images of 4x4 make a 16x12 grid: 192 pixels.
    with pytest.raises(ValueError, match="at most 100 pixels.*a 16x12 grid.*--output_dir"):
        sampling.write_samples(
            export, str(tmp_path / "grid.png"), num_samples=10, max_grid_pixels=100
        )
    # A strip wider than WebP stores, but not than PNG's limit.
    with pytest.raises(ValueError, match="16,383 pixels wide and high.*--output_dir"):
        sampling.write_samples(export, str(tmp_path / "strip.webp"), interpolate=4100)
    assert export.batches == [] and not list(tmp_path.iterdir())
    count = sampling.write_samples(
        export, "", num_samples=10, output_dir=str(tmp_path / "x"), max_grid_pixels=100
    )
    assert count == 10 and export.batches == [10]
    assert [p.name for p in tmp_path.iterdir()] == ["x"]
    assert len(read_pngs(tmp_path / "x")) == 10
    with pytest.raises(ValueError, match="Expected --output .* or --output_dir"):
        sampling.write_samples(export, "", num_samples=10)


@pytest.mark.parametrize(
    "output, output_dir, message",
    [
        ("grid", None, r"--output to end in one of \.png, \.jpg, \.jpeg, \.webp.*grid\.png"),
        ("TMP/file/grid.png", None, "Expected --output in a folder that can be written"),
        ("/proc/forbidden/grid.png", None, r"'/proc' is not writable"),
        ("TMP/folder.png", None, "an existing folder"),
        ("TMP/grid.png", "TMP/file", "Expected --output_dir in a folder that can be written"),
        ("TMP/grid.png", "TMP/file/x", r"TMP/file' is not writable \(Not a directory\)"),
    ],
)
def test_outputs_that_cannot_be_written_are_refused_before_generating(
    tmp_path, output, output_dir, message
):
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "folder.png").mkdir()
    output, output_dir = (p and p.replace("TMP", str(tmp_path)) for p in (output, output_dir))
    message = message.replace("TMP", re.escape(str(tmp_path)))
    export = StandInExport()
    with pytest.raises(ValueError, match=message):
        sampling.write_samples(export, output, output_dir=output_dir)
    if output_dir is None:  # nearest checks its --output alike
        with pytest.raises(ValueError, match=message):
            sampling.write_nearest(export, np.zeros((6, 4, 4, 3)), output)
    assert export.batches == []


def test_missing_folders_of_the_outputs_are_created_and_existing_files_replaced(tmp_path):
    grid, folder = tmp_path / "a" / "b" / "grid.jpg", tmp_path / "c" / "d"
    for num_samples in (4, 9):
        sampling.write_samples(
            StandInExport(), str(grid), num_samples=num_samples, output_dir=str(folder)
        )
    assert Image.open(grid).format == "JPEG" and Image.open(grid).size == (12, 12)
    assert len(read_pngs(folder)) == 9
