"""keras_models.data: subsets, pipeline outputs, image folders, the shipped emoji set."""

import hashlib
import json
import logging
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from keras_models import data
from tests.helpers import tfds_local
from tests.helpers.checks import two_replica_strategy


def _first(ds):
    return next(iter(ds))


def test_select_subset_is_stratified_and_seeded():
    labels = np.repeat(np.arange(10), 50)  # 500 examples, 50 per class
    np.random.default_rng(0).shuffle(labels)
    chosen = data.select_subset(500, 50, labels, seed=0)
    assert len(chosen) == 50 and len(set(chosen)) == 50
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=10), [5] * 10)
    np.testing.assert_array_equal(chosen, data.select_subset(500, 50, labels, seed=0))
    assert not np.array_equal(chosen, data.select_subset(500, 50, labels, seed=1))


def test_select_subset_is_pinned_across_runs_and_versions():
    # default_rng(PCG64) streams are stable across NumPy versions; these values pin the
    # documented protocol, so a change in selection cannot go unnoticed.
    labels = np.arange(20) % 4
    assert data.select_subset(20, 8, labels, seed=0).tolist() == [2, 5, 8, 10, 11, 15, 16, 17]
    assert data.select_subset(20, 5, seed=0).tolist() == [2, 4, 6, 13, 19]


def test_select_subset_rounds_by_largest_remainder():
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1)
    # Quotas 3.0, 1.5, 0.5 for 5 images: the 0.5 remainders break toward class 1.
    chosen = data.select_subset(10, 5, labels, seed=3)
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=3), [3, 2, 0])
    unlabelled = data.select_subset(10, 4, seed=3)
    assert len(set(unlabelled)) == 4 and np.all(np.diff(unlabelled) > 0)
    with pytest.raises(ValueError, match="size=11"):
        data.select_subset(10, 11)


def test_the_subset_rule_has_one_owner():
    # At most one of percent / num_images, percent in (0, 100]; neither means everything.
    assert not data.is_subset(None, None) and data.is_subset(10, None) and data.is_subset(None, 3)
    assert data.subset_size(200, None, None) is None and data.choose_subset(200, None, None) is None
    assert data.subset_size(200, 10, None) == 20 and data.subset_size(200, None, 33) == 33
    assert data.subset_size(30, 12, None) == 4  # 3.6: rounded to the nearest count
    for percent, num_images, message in ((10, 5, "at most one"), (0, None, "0 < percent"),
                                         (101, None, "percent=101")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            data.check_subset(percent, num_images)
        with pytest.raises(ValueError, match=message):
            data.choose_subset(200, percent, num_images)
    labels = np.arange(20) % 4
    np.testing.assert_array_equal(
        data.choose_subset(20, 40, None, labels, seed=0), data.select_subset(20, 8, labels, 0)
    )


def test_uniform_subset_is_the_biggan_cifar_draw():
    # DiffAugment-biggan-cifar/datasets.py: `np.random.seed(seed); np.random.choice(50000,
    # num_samples, replace=False)` with --seed 0; the legacy RandomState stream is frozen.
    for size in (5000, 10000):  # the 10% and 20% subsets
        authors = np.random.RandomState(0).choice(50000, size, replace=False)
        chosen = data.choose_subset(50000, None, size, selection="uniform")
        assert chosen.dtype == np.int64
        np.testing.assert_array_equal(chosen, np.sort(authors))  # same images, sorted
    labels = np.arange(50000) % 10  # ignored: the draw is not class-balanced
    np.testing.assert_array_equal(
        data.choose_subset(50000, 10, None, labels, seed=0, selection="uniform"),
        np.sort(np.random.RandomState(0).choice(50000, 5000, replace=False)),
    )
    np.testing.assert_array_equal(
        data.select_subset(50000, 5000, seed=3, selection="uniform"),
        np.sort(np.random.RandomState(3).choice(50000, 5000, replace=False)),
    )


def test_first_subset_is_the_first_records_and_selections_are_checked():
    labels = np.arange(50000) % 10
    for chosen in (
        data.choose_subset(50000, 10, None, labels, seed=7, selection="first"),
        data.select_subset(50000, 5000, selection="first"),
    ):
        np.testing.assert_array_equal(chosen, np.arange(5000))
        assert chosen.dtype == np.int64
    assert data.SUBSET_SELECTIONS == ("stratified", "uniform", "first")
    np.testing.assert_array_equal(  # stratified stays the default rule
        data.choose_subset(20, 40, None, labels[:20] % 4, seed=0),
        data.choose_subset(20, 40, None, labels[:20] % 4, seed=0, selection="stratified"),
    )
    with pytest.raises(ValueError, match="selection='random'"):
        data.select_subset(10, 5, selection="random")


@pytest.fixture()
def mock_cifar():
    with tfds_local.mock_prepared(num_examples=200):
        yield


def _all_labels():
    ds = tfds.load("cifar10", split="train", shuffle_files=False)
    return np.array([int(ex["label"]) for ex in ds])


def test_load_tfds_percent_subset_is_deterministic_and_balanced(mock_cifar):
    idx = data.subset_indices("cifar10", "train", percent=10)
    assert len(idx) == 20
    np.testing.assert_array_equal(idx, data.subset_indices("cifar10", "train", percent=10))
    labels = _all_labels()
    # Each class keeps its share of the split (mock labels are not uniform).
    quota = np.bincount(labels, minlength=10) * 0.1
    counts = np.bincount(labels[idx], minlength=10)
    assert np.all(np.abs(counts - quota) < 1)
    assert len(data.subset_indices("cifar10", "train", num_images=33)) == 33
    with pytest.raises(ValueError, match="at most one"):
        data.subset_indices("cifar10", "train", percent=10, num_images=5)


def test_load_tfds_yields_exactly_the_subset(mock_cifar):
    idx = data.subset_indices("cifar10", "train", num_images=24)
    raw = list(tfds.load("cifar10", split="train", shuffle_files=False).as_numpy_iterator())
    expected = np.stack([raw[i]["image"] for i in idx]).astype(np.float32) / 127.5 - 1
    ds = data.load_tfds(
        "cifar10", "train", num_images=24, batch_size=8, shuffle=False, repeat=False
    )
    got = np.concatenate(list(ds.as_numpy_iterator()))
    np.testing.assert_allclose(got, expected, atol=1e-6)  # native 32 px: no resampling
    # Shuffled: same images, other order, identical across two builds (seeded).
    shuffled = data.load_tfds("cifar10", "train", num_images=24, batch_size=8, repeat=False)
    a = np.concatenate(list(shuffled.as_numpy_iterator()))
    b = np.concatenate(list(shuffled.as_numpy_iterator()))
    again = data.load_tfds("cifar10", "train", num_images=24, batch_size=8, repeat=False)
    np.testing.assert_array_equal(a, np.concatenate(list(again.as_numpy_iterator())))
    assert not np.array_equal(a, got)
    assert not np.array_equal(a, b)  # reshuffled each epoch
    np.testing.assert_allclose(np.sort(a.ravel()), np.sort(got.ravel()))


def test_load_tfds_output_contract(mock_cifar, tmp_path):
    cache = str(tmp_path / "cache" / "cifar")
    os.makedirs(os.path.dirname(cache))
    ds = data.load_tfds(
        "cifar10",
        "train",
        percent=50,
        resolution=16,
        batch_size=12,
        with_labels=True,
        x_flip=True,
        cache=cache,
    )
    images, labels = _first(ds)
    assert images.shape == (12, 16, 16, 3) and images.dtype == tf.float32
    assert labels.shape == (12,) and labels.dtype == tf.int32
    assert tf.reduce_min(images) >= -1.0 and tf.reduce_max(images) <= 1.0
    assert ds.element_spec[0].shape == (12, 16, 16, 3)  # static batch: drop_remainder
    # repeat=True: more batches than one epoch holds; the first epoch wrote the file cache.
    assert len(list(ds.take(20))) == 20
    assert any(f.startswith("cifar") for f in os.listdir(tmp_path / "cache"))


def test_load_tfds_x_flip_flips_some_images_only(mock_cifar):
    kwargs = dict(num_images=64, batch_size=64, shuffle=False, repeat=False)
    plain = _first(data.load_tfds("cifar10", "train", **kwargs)).numpy()
    flipped = _first(data.load_tfds("cifar10", "train", x_flip=True, **kwargs)).numpy()
    same = np.all(plain == flipped, axis=(1, 2, 3))
    mirrored = np.all(plain[:, :, ::-1] == flipped, axis=(1, 2, 3))
    assert np.all(same | mirrored) and 10 < mirrored.sum() < 54


def _write(path, array, mode=None, fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array, mode).save(path, fmt)


@pytest.fixture()
def folder(tmp_path):
    """Two classes; RGBA, grayscale, JPEG, WebP, and a non-square image."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[5:15, 5:15] = [255, 0, 0, 255]  # opaque red square on a transparent background
    _write(str(root / "cats" / "a.png"), rgba)
    _write(str(root / "cats" / "b.png"), np.full((20, 20), 100, np.uint8))
    _write(str(root / "cats" / "c.jpg"), rng.integers(0, 255, (20, 30, 3), np.uint8))
    _write(str(root / "dogs" / "d.webp"), rng.integers(0, 255, (40, 40, 3), np.uint8))
    _write(str(root / "dogs" / "sub" / "e.png"), rng.integers(0, 255, (20, 20, 3), np.uint8))
    (root / "dogs" / "notes.txt").write_text("not an image")
    return str(root)


def test_read_images_converts_every_format(folder):
    images, labels, files = data.read_images(folder, 20, labels=True)
    assert images.shape == (5, 20, 20, 3) and images.dtype == np.uint8
    assert [os.path.basename(f) for f in files] == ["a.png", "b.png", "c.jpg", "d.webp", "e.png"]
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1])
    assert data.folder_classes(folder) == ["cats", "dogs"]
    np.testing.assert_array_equal(images[0, 0, 0], [255, 255, 255])  # transparent -> white
    np.testing.assert_array_equal(images[0, 10, 10], [255, 0, 0])
    np.testing.assert_array_equal(images[1, 3, 3], [100, 100, 100])  # gray -> RGB


def test_image_folder_output_contract(folder):
    ds = data.image_folder(folder, 8, batch_size=4, labels=True)
    images, labels = _first(ds)
    assert images.shape == (4, 8, 8, 3) and images.dtype == tf.float32
    assert labels.dtype == tf.int32
    assert -1.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    plain = _first(data.image_folder(folder, 20, batch_size=5, shuffle=False))
    np.testing.assert_allclose(plain[0, 0, 0], [1.0, 1.0, 1.0])  # white -> 1
    with pytest.raises(ValueError, match="at least batch_size=8"):
        data.image_folder(folder, 8, batch_size=8, repeat=False)


def test_image_folder_corrupt_file_is_named_or_skipped(folder):
    bad = os.path.join(folder, "cats", "broken.png")
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(ValueError, match="broken.png"):
        data.image_folder(folder, 8, batch_size=2)
    with pytest.warns(UserWarning, match="broken.png"):
        images, _, files = data.read_images(folder, 8, on_error="skip")
    assert len(images) == 5 and bad not in files
    # One message, two remedies: a run's loader has no on_error to pass.
    with pytest.raises(data.UnreadableImageError) as direct:
        data.read_images(folder, 8)
    with pytest.raises(data.UnreadableImageError) as run:
        data.load_training_data(folder, 8, batch_size=2)
    for error in (direct.value, run.value):
        assert error.file == bad and str(error).startswith(f"Could not read image file {bad!r}: ")
        assert isinstance(error.__cause__, OSError)  # the decoder's error, kept
    assert str(direct.value).endswith("or pass on_error='skip' to leave it out.")
    assert str(run.value).endswith(". Fix it or remove it from the dataset folder.")
    assert str(run.value.reason) in str(run.value) and "on_error" not in str(run.value)


def test_image_folder_empty_or_missing(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "README").write_text("no images here")
    with pytest.raises(ValueError, match="Expected images"):
        data.image_folder(str(tmp_path / "empty"), 8)
    with pytest.raises(ValueError, match="not a folder"):
        data.image_folder(str(tmp_path / "missing"), 8)
    with pytest.raises(ValueError, match="sub-folder per class"):
        os.makedirs(tmp_path / "flat")
        _write(str(tmp_path / "flat" / "a.png"), np.zeros((4, 4, 3), np.uint8))
        data.image_folder(str(tmp_path / "flat"), 4, labels=True)


def test_shipped_emoji_faces_match_manifest():
    with open(os.path.join(data.FACES_DIR, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["count"] == len(manifest["images"]) == 169
    assert manifest["image_license"] == "Apache-2.0"
    for name in ("LICENSE", "LICENSE-emoji-data", "NOTICE"):
        assert os.path.getsize(os.path.join(data.FACES_DIR, name)) > 0
    with open(os.path.join(data.FACES_DIR, "LICENSE")) as f:
        assert "Apache License" in f.read()
    for entry in manifest["images"]:
        assert entry["category"] == "Smileys & Emotion"
        with open(os.path.join(data.FACES_DIR, entry["file"]), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == entry["sha256"]
    ds = data.emoji_faces(64, batch_size=169, shuffle=False, repeat=False)
    images = _first(ds).numpy()
    assert images.shape == (169, 64, 64, 3)
    # Composited on white: corners are white, and the faces are not all alike.
    np.testing.assert_allclose(images[:, 0, 0], 1.0)
    assert images.std(axis=0).mean() > 0.1


def test_image_folder_distributes_over_two_replicas():
    strategy = two_replica_strategy()
    ds = data.emoji_faces(16, batch_size=8, shuffle=False)
    batch = next(iter(strategy.experimental_distribute_dataset(ds)))
    shards = strategy.experimental_local_results(batch)
    assert [s.shape for s in shards] == [(4, 16, 16, 3)] * 2
    # The two replicas get the two halves of the global batch.
    np.testing.assert_array_equal(np.concatenate(shards), _first(ds).numpy())


def test_training_data_from_a_folder_holds_out_images_and_scales_once():
    common = dict(batch_size=4, seed=0, holdout=9)
    run = data.load_training_data("emoji_faces", 16, num_images=20, **common)
    faces = np.asarray(data.to_float(data.read_images(data.FACES_DIR, 16)[0]))
    assert run.images.shape == (20, 16, 16, 3) and run.labels is None and run.num_classes is None
    held, held_labels = run.heldout
    assert held.shape == (9, 16, 16, 3) and held_labels is None
    index = {face.tobytes(): i for i, face in enumerate(faces)}
    train_ids = {index[x.tobytes()] for x in run.images}  # exactly the scaled files
    held_ids = {index[x.tobytes()] for x in held}
    assert len(train_ids) == 20 and len(held_ids) == 9 and not train_ids & held_ids
    # The pipeline yields the same [-1, 1] pixels as the in-memory copy.
    batch = _first(run.dataset).numpy()
    assert {x.tobytes() for x in batch} <= {x.tobytes() for x in run.images}
    same = data.load_training_data("emoji_faces", 16, num_images=20, **common)
    np.testing.assert_array_equal(same.images, run.images)  # seeded


def test_training_data_subset_selection_reaches_folders_and_tfds(mock_cifar):
    # A folder's "first" subset is its first files in the folder's order, whatever the
    # held-out permutation.
    faces = np.asarray(data.to_float(data.read_images(data.FACES_DIR, 16)[0]))
    common = dict(batch_size=4, seed=0, num_images=20, subset_selection="first")
    run = data.load_training_data("emoji_faces", 16, **common)
    np.testing.assert_array_equal(run.images, faces[:20])
    held = data.load_training_data("emoji_faces", 16, holdout=9, **common)
    index = {face.tobytes(): i for i, face in enumerate(faces)}
    train_ids = [index[x.tobytes()] for x in held.images]
    held_ids = {index[x.tobytes()] for x in held.heldout[0]}
    assert train_ids == sorted(set(range(len(faces))) - held_ids)[:20]
    # tfds: the run's seed is the draw's seed.
    raw = tfds.load("cifar10", split="train", shuffle_files=False)
    images = np.stack([ex["image"] for ex in raw.as_numpy_iterator()])
    for seed in (0, 1):
        run = data.load_training_data(
            "cifar10", 32, batch_size=4, seed=seed, num_images=8,
            subset_selection="uniform", num_eval_images=12,
        )  # fmt: skip
        kept = np.sort(np.random.RandomState(seed).choice(len(images), 8, replace=False))
        got = np.concatenate(list(run.dataset.unbatch().batch(8).take(1).as_numpy_iterator()))
        got = np.round((got + 1) * 127.5).astype(np.uint8)  # one epoch, back to pixels
        assert sorted(map(bytes, got)) == sorted(map(bytes, images[kept]))


def test_training_data_from_a_labelled_folder_and_bad_names(folder):
    run = data.load_training_data(folder, 8, batch_size=2, conditional=True, holdout=1)
    assert run.num_classes == 2 and len(run.images) == len(run.labels) == 4
    images, labels = _first(run.dataset)
    assert images.shape == (2, 8, 8, 3) and labels.dtype == tf.int32
    with pytest.raises(ValueError, match="holdout=5"):
        data.load_training_data(folder, 8, batch_size=2, holdout=5)
    with pytest.raises(ValueError, match="is not a folder"):
        data.load_training_data("./no/such/folder", 8, batch_size=2)


def test_training_data_from_tfds_keeps_labels_and_a_test_split_holdout(mock_cifar):
    run = data.load_training_data(
        "cifar10", 32, batch_size=4, conditional=True, percent=10, num_eval_images=12
    )
    assert run.num_classes == 10
    assert run.images.shape == (12, 32, 32, 3) and run.labels.shape == (12,)
    assert run.heldout[0].shape == (12, 32, 32, 3)
    images, labels = _first(run.dataset)
    assert images.shape == (4, 32, 32, 3) and labels.shape == (4,)


def test_a_locally_prepared_tfds_dataset_loads_through_the_real_tfds_code_path(tfds_data_dir):
    # No mock: tfds's own preparation (which imports what a fresh install must provide)
    # and reading, as for a dataset copied from a machine with internet access.
    run = data.load_training_data(
        tfds_local.NAME,
        tfds_local.RESOLUTION,
        batch_size=4,
        conditional=True,
        num_images=6,
        data_dir=tfds_data_dir,
    )
    assert run.num_classes == tfds_local.NUM_CLASSES
    train = np.asarray(data.to_float(tfds_local.example_images("train")))
    np.testing.assert_array_equal(run.images, train)
    np.testing.assert_array_equal(run.labels, tfds_local.example_labels("train"))
    test = np.asarray(data.to_float(tfds_local.example_images("test")))
    np.testing.assert_array_equal(run.heldout[0], test)
    # The 6-image subset, 2 per class, is what the pipeline yields (12 after a repeat).
    images, labels = _first(run.dataset.unbatch().batch(12))
    kept = data.subset_indices(tfds_local.NAME, num_images=6, data_dir=tfds_data_dir)
    assert sorted(map(bytes, np.asarray(images))) == sorted(
        map(bytes, np.tile(train[kept], (2, 1, 1, 1)))
    )
    np.testing.assert_array_equal(np.bincount(labels, minlength=3), [4, 4, 4])


def test_a_tfds_dataset_not_prepared_locally_fails_at_once_saying_how_to_prepare_it(
    tmp_path, caplog
):
    # Offline, tfds would retry its downloads for minutes and leave a partial folder.
    for load in (
        lambda: data.load_training_data("cifar10", 32, batch_size=4, data_dir=str(tmp_path)),
        lambda: data.load_tfds("cifar10", data_dir=str(tmp_path)),
        lambda: data.subset_indices("cifar10", percent=10, data_dir=str(tmp_path)),
    ):
        with pytest.raises(ValueError) as error:
            load()
        message = str(error.value)
        for advice in (
            "not prepared",
            str(tmp_path),
            "tfds build cifar10",
            "--data_dir",
            "--download",
            "--dataset=FOLDER",
        ):
            assert advice in message, (advice, message)
    assert os.listdir(tmp_path) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # the error says it


def test_download_is_an_explicit_opt_in(tmp_path, monkeypatch):
    prepared = []
    builder = tfds.core.DatasetBuilder
    monkeypatch.setattr(builder, "download_and_prepare", lambda self: prepared.append(self.name))
    with pytest.raises(ValueError, match="not prepared"):
        data.load_tfds("cifar10", data_dir=str(tmp_path))
    assert prepared == []
    with pytest.raises(AssertionError):  # tfds reads nothing: the mocked download wrote none
        data.load_tfds("cifar10", data_dir=str(tmp_path), download=True)
    assert prepared == ["cifar10"]


def test_reference_images_follow_the_papers_protocol(mock_cifar, tmp_path):
    # A tfds dataset: the whole test split by default (the paper's CIFAR FID), in order.
    training = np.zeros((3, 8, 8, 3), np.float32)
    images, split = data.reference_images("cifar10", 8, None, training)
    expected, _ = data.tfds_images("cifar10", "test", 8)
    assert split == "test" and len(images) == len(expected) == 200
    np.testing.assert_array_equal(images, expected)
    images, split = data.reference_images("cifar10", 8, "train", training)
    assert split == "train" and len(images) == 200
    # An image folder has only its training images (the few-shot fid5k-train).
    images, split = data.reference_images(str(tmp_path), 8, None, training)
    assert split == "train" and images is training
    with pytest.raises(ValueError, match="fid_split=train for an image folder"):
        data.reference_images(str(tmp_path), 8, "test", training)


def test_16_bit_grayscale_and_other_modes_keep_their_levels(tmp_path):
    from PIL import Image

    levels = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    Image.fromarray(levels).save(tmp_path / "gray16.png")  # mode I;16: read as white before
    image = data.load_image(str(tmp_path / "gray16.png"), 8)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 0], np.round(levels / 257.0).astype(np.uint8))
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red
    cmyk.save(tmp_path / "red.jpg")
    red = data.load_image(str(tmp_path / "red.jpg"), 8).reshape(-1, 3).mean(axis=0)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    Image.fromarray(np.ones((8, 8), np.float32), "F").save(tmp_path / "float.tiff")
    with pytest.raises(ValueError, match="32-bit float image"):
        data.load_image(str(tmp_path / "float.tiff"), 8)
