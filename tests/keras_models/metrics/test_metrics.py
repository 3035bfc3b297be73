"""keras_models.metrics: each metric against an independent NumPy/SciPy computation."""

import dataclasses
import json

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage
import scipy.special
import scipy.stats
import tensorflow as tf

from keras_models import data, metrics
from keras_models.metrics import inception, swd
from tests.helpers.tiny_inception import build_tiny_inception

RTOL = 1e-6


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(1234)
    real = rng.normal(size=(300, 16))
    # A shifted, rescaled and correlated second set, so every FID term is non-zero.
    mix = np.eye(16) + 0.2 * rng.normal(size=(16, 16))
    fake = rng.normal(size=(280, 16)) @ mix * 1.3 + 0.4
    return real, fake


def test_frechet_distance_matches_eigenvalue_reference(features):
    real, fake = features
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    # TF-GAN's route: Tr sqrt(s1 s2) = sum sqrt(eig(sqrt(s1) s2 sqrt(s1))), not sqrtm(s1 s2).
    root1 = scipy.linalg.sqrtm(s1).real
    eig = np.linalg.eigvalsh(root1 @ s2 @ root1)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eig).sum()
    result = metrics.frechet_distance(real, fake)
    assert isinstance(result, float)
    np.testing.assert_allclose(result, expected, rtol=RTOL)


def test_frechet_distance_equals_the_sqrtm_route_of_pytorch_fid(features):
    """The eigenvalue route must give what a general matrix square root gives."""
    real, fake = features
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    np.testing.assert_allclose(metrics.frechet_distance(real, fake), expected, rtol=RTOL)


def test_frechet_distance_is_float64_and_zero_on_itself(features):
    real, _ = features
    # float32 input: a float32 covariance would leave an error far above 1e-9.
    assert abs(metrics.frechet_distance(real.astype(np.float32), real.astype(np.float32))) < 1e-9
    with pytest.raises(ValueError, match="Received: shape"):
        metrics.frechet_distance(real[:, 0], real[:, 0])


def test_frechet_distance_with_fewer_samples_than_dimensions_is_exact():
    # Singular covariances (rank 9 of 32 and rank 11 of 32). With centred data A, B:
    # s1 = A'A / (n-1), s2 = B'B / (m-1), and the non-zero eigenvalues of A'A B'B are
    # those of (AB')(AB')', so Tr sqrt(s1 s2) is the sum of the singular values of AB'
    # over sqrt((n-1)(m-1)): an exact route through a small SVD, no square root of a
    # singular matrix.
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(10, 32)), rng.normal(size=(12, 32)) * 0.7 + 1
    a, b = real - real.mean(0), fake - fake.mean(0)
    n, m = len(a), len(b)
    trace_sqrt = scipy.linalg.svdvals(a @ b.T).sum() / np.sqrt((n - 1) * (m - 1))
    mean_term = np.sum((real.mean(0) - fake.mean(0)) ** 2)
    traces = np.sum(a**2) / (n - 1) + np.sum(b**2) / (m - 1)
    expected = mean_term + traces - 2 * trace_sqrt
    np.testing.assert_allclose(metrics.frechet_distance(real, fake), expected, rtol=RTOL)


def _loop_mmd2(x, y):
    """Unbiased cubic-kernel MMD^2 by explicit sums over pairs."""
    d = x.shape[1]

    def k(a, b):
        return (np.dot(a, b) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kernel_distance_matches_pairwise_reference(features):
    real, fake = features[0][:40], features[1][:40]
    # One subset of the full sets: a permutation, to which the MMD is invariant.
    mean, std = metrics.kernel_distance(real, fake, num_subsets=1, subset_size=40)
    np.testing.assert_allclose(mean, _loop_mmd2(real, fake), rtol=RTOL)
    assert std == 0.0


def test_kernel_distance_subsets_are_seeded_and_unbiased(features):
    real, fake = features
    first = metrics.kernel_distance(real, fake, num_subsets=20, subset_size=50)
    assert first == metrics.kernel_distance(real, fake, num_subsets=20, subset_size=50)
    assert first[1] > 0
    # Unbiased: two samples of one distribution give a mean near 0 (a biased estimate
    # would be clearly positive), and a different distribution gives a larger value.
    rng = np.random.default_rng(5)
    same = metrics.kernel_distance(rng.normal(size=(400, 16)), rng.normal(size=(400, 16)), 50, 100)
    assert abs(same[0]) < 3 * same[1] / np.sqrt(50) + 1e-3
    assert first[0] > 10 * abs(same[0])


def test_inception_score_matches_scipy_kl_reference():
    rng = np.random.default_rng(7)
    logits = rng.normal(scale=3.0, size=(1000, 12))
    probs = scipy.special.softmax(logits, axis=1)
    scores = []
    for part in np.split(probs, 10):
        p_y = part.mean(axis=0)
        scores.append(np.exp(np.mean([scipy.stats.entropy(p, p_y) for p in part])))
    mean, std = metrics.inception_score(logits, splits=10)
    np.testing.assert_allclose(mean, np.mean(scores), rtol=RTOL)
    np.testing.assert_allclose(std, np.std(scores), rtol=RTOL)


def test_inception_score_bounds():
    # Confident and uniform over C classes -> C; one class for all -> 1.
    confident = np.eye(10)[np.arange(100) % 10] * 50.0
    assert metrics.inception_score(confident, splits=1)[0] == pytest.approx(10.0, rel=1e-6)
    assert metrics.inception_score(np.zeros((100, 10)), splits=2) == pytest.approx((1.0, 0.0))


@pytest.fixture(scope="module")
def tiny_inception(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("inception") / "tiny_graph_def.pb")
    return path, build_tiny_inception(path)


@pytest.mark.parametrize("logits_bias", [False, True])
def test_inception_features_plumbing(tiny_inception, logits_bias):
    path, (projection, weights, bias) = tiny_inception
    extractor = metrics.InceptionFeatures(path, logits_bias=logits_bias, batch_size=3)
    images = np.random.default_rng(0).uniform(-1, 1, size=(5, 32, 32, 3)).astype(np.float32)
    pool, logits = extractor(images)
    assert pool.shape == (5, 2048) and logits.shape == (5, 1008)
    # The stand-in's `Mul:0` takes the authors' input as is (tested pixel by pixel in
    # test_inception_input.py).
    fed = inception.inception_input(images).numpy()
    expected_pool = fed.mean(axis=(1, 2)) @ projection
    np.testing.assert_allclose(pool, expected_pool, rtol=1e-4, atol=1e-4)
    expected_logits = expected_pool @ weights + (bias if logits_bias else 0)
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-3, atol=1e-3)
    # A dataset of (images, labels) batches gives the same features.
    ds = tf.data.Dataset.from_tensor_slices((images, np.zeros(5))).batch(2)
    np.testing.assert_allclose(extractor(ds)[0], pool, rtol=1e-6)


def test_inception_features_checks_the_file(tiny_inception, tmp_path):
    path, _ = tiny_inception
    with pytest.raises(FileNotFoundError, match="inception-2015-12-05.tgz"):
        metrics.InceptionFeatures(str(tmp_path / "missing.pb"))
    with pytest.raises(ValueError, match="SHA-256"):
        metrics.InceptionFeatures(path, expected_sha256="0" * 64)
    sha = inception.file_sha256(path)
    extractor = metrics.InceptionFeatures(path, expected_sha256=sha.upper())
    assert extractor.protocol["extractor_sha256"] == sha
    other = tmp_path / "other.pb"
    other.write_bytes(tf.compat.v1.GraphDef().SerializeToString())
    with pytest.raises(ValueError, match="pool_3"):
        metrics.InceptionFeatures(str(other))


def test_reference_statistics_cache_and_protocol(tmp_path):
    # 16-d features: a 2048-d matrix square root takes a minute on a small CPU.
    path = str(tmp_path / "tiny16.pb")
    build_tiny_inception(path, dims=16)
    extractor = metrics.InceptionFeatures(path)
    rng = np.random.default_rng(3)
    real = rng.uniform(-1, 1, size=(24, 16, 16, 3)).astype(np.float32)
    fake = rng.uniform(-1, 0.5, size=(20, 16, 16, 3)).astype(np.float32)
    cache = str(tmp_path / "cifar10_train.npz")
    ref = metrics.ReferenceStatistics.compute(
        extractor, real, dataset="cifar10", split="train", cache_path=cache
    )
    # The second call reads the cache: same numbers without the images.
    cached = metrics.ReferenceStatistics.compute(
        extractor, None, dataset="cifar10", split="train", cache_path=cache
    )
    np.testing.assert_array_equal(cached.features, ref.features)
    assert cached.protocol == ref.protocol and ref.protocol["num_real"] == 24
    with pytest.raises(ValueError, match="match protocol"):
        metrics.ReferenceStatistics.compute(
            extractor, None, dataset="cifar10", split="test", cache_path=cache
        )
    results = metrics.evaluate_inception(extractor, ref, fake, kid_subsets=5, kid_subset_size=10)
    fake_features, fake_logits = extractor(metrics.quantize(fake))  # fakes as 8-bit images
    # Inception quantises its input itself (`inception_input`), the same way.
    np.testing.assert_array_equal(fake_features, extractor(fake)[0])
    assert results["fid"].value == pytest.approx(
        metrics.frechet_distance(ref.features, fake_features), rel=RTOL
    )
    assert results["is"].value == pytest.approx(metrics.inception_score(fake_logits)[0], rel=RTOL)
    protocol = results["kid"].protocol
    assert protocol["num_real"] == 24 and protocol["num_fake"] == 20
    assert protocol["split"] == "train" and protocol["extractor_sha256"] == extractor.sha256
    assert protocol["resize"] == inception.INPUT_PROTOCOL and protocol["kid_subset_size"] == 10
    assert "half_pixel_centers=False" in protocol["resize"]
    assert protocol["fakes"].startswith("uint8")
    json.dumps(protocol)  # recordable in logs as is


def test_quantize_rounds_fakes_to_8_bit_levels_as_the_reference():
    x = np.array([-1.0, -0.999, 1.0, 1.2, -1.3, 0.0, 1 / 255, 2 / 255 - 1e-4], np.float32)
    levels = np.array([0, 0, 255, 255, 0, 128, 128, 128])  # floor((x + 1) * 127.5 + 0.5)
    np.testing.assert_allclose(metrics.quantize(x), levels / 127.5 - 1, atol=1e-7)
    dataset = tf.data.Dataset.from_tensors((x[None], np.zeros(1)))
    np.testing.assert_array_equal(
        next(iter(metrics.quantize(dataset))).numpy()[0], metrics.quantize(x)
    )
    images = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3))
    np.testing.assert_array_equal(
        metrics.quantize(metrics.quantize(images)), metrics.quantize(images)
    )


def _scipy_pyr_down(images):
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0
    blurred = scipy.ndimage.convolve(images, kernel[None, :, :, None], mode="mirror")
    return blurred[:, ::2, ::2]


def _scipy_pyr_up(images):
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0 * 4
    n, h, w, c = images.shape
    up = np.zeros((n, 2 * h, 2 * w, c), images.dtype)
    up[:, ::2, ::2] = images
    return scipy.ndimage.convolve(up, kernel[None, :, :, None], mode="mirror")


def test_laplacian_pyramid_matches_scipy_and_reconstructs():
    images = np.random.default_rng(0).uniform(-1, 1, size=(2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(swd.pyramid_down(images), _scipy_pyr_down(images), atol=1e-5)
    small = images[:, :16, :16]
    np.testing.assert_allclose(swd.pyramid_up(small), _scipy_pyr_up(small), atol=1e-5)
    levels = swd.laplacian_pyramid(images, 3)
    assert [lv.shape[1] for lv in levels] == [32, 16, 8]
    rebuilt = levels[-1]
    for level in levels[-2::-1]:
        rebuilt = swd.pyramid_up(rebuilt) + level
    np.testing.assert_allclose(rebuilt, images, atol=1e-5)


def _reference_swd_level(real, fake, rng):
    """One scale, written directly from ProGAN's definition (loops, no vectorised gather),
    with the patch positions drawn once for both sets."""

    count = len(real) * 128
    ys = rng.integers(3, real.shape[1] - 3, size=count)  # draw order: all y, then all x
    xs = rng.integers(3, real.shape[2] - 3, size=count)

    def descriptors(level):  # both sets at the same patch positions
        out = np.array(
            [
                level[i // 128, y - 3 : y + 4, x - 3 : x + 4]
                for i, (y, x) in enumerate(zip(ys, xs, strict=True))
            ]
        )
        out = (out - out.mean(axis=(0, 1, 2))) / out.std(axis=(0, 1, 2))
        return out.reshape(len(out), -1)

    a, b = descriptors(real), descriptors(fake)
    results = []
    for _ in range(4):
        dirs = rng.standard_normal((a.shape[1], 128))
        dirs = (dirs / np.sqrt(np.sum(dirs**2, axis=0, keepdims=True))).astype(np.float32)
        results.append(np.mean(np.abs(np.sort(a @ dirs, 0) - np.sort(b @ dirs, 0))))
    return 1e3 * np.mean(results)


def test_sliced_wasserstein_matches_loop_reference():
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, size=(4, 32, 32, 3)).astype(np.float32)
    fake = np.clip(real + rng.normal(scale=0.3, size=real.shape), -1, 1).astype(np.float32)
    per_scale = metrics.sliced_wasserstein_per_scale(real, fake, seed=11)
    assert list(per_scale) == [32, 16]  # ProGAN: scales down to 16 px
    ref_rng = np.random.default_rng(11)
    real_levels, fake_levels = swd.laplacian_pyramid(real, 2), swd.laplacian_pyramid(fake, 2)
    expected = [
        _reference_swd_level(r, f, ref_rng) for r, f in zip(real_levels, fake_levels, strict=True)
    ]
    np.testing.assert_allclose(list(per_scale.values()), expected, rtol=1e-5)
    assert metrics.sliced_wasserstein(real, fake, seed=11) == pytest.approx(np.mean(expected))


def test_sliced_wasserstein_orders_distributions_and_is_deterministic():
    rng = np.random.default_rng(2)
    real = rng.uniform(-1, 1, size=(16, 16, 16, 3)).astype(np.float32)
    other_real = rng.uniform(-1, 1, size=(16, 16, 16, 3)).astype(np.float32)
    blurred = swd.pyramid_up(swd.pyramid_down(other_real))  # smooth: wrong patch statistics
    same = metrics.sliced_wasserstein(real, other_real)
    assert same == metrics.sliced_wasserstein(real, other_real)
    assert metrics.sliced_wasserstein(real, blurred) > 2 * same
    result = metrics.evaluate_swd(real, blurred, split="train")
    assert result.protocol["num_real"] == 16 and result.protocol["split"] == "train"
    with pytest.raises(ValueError, match="square NHWC"):
        metrics.sliced_wasserstein(real[:, :8, :8], real[:, :8, :8])


def test_sliced_wasserstein_of_a_set_and_its_copy_is_zero():
    rng = np.random.default_rng(3)
    real = rng.uniform(-1, 1, size=(8, 32, 32, 3)).astype(np.float32)
    # Independent patch positions per set (ProGAN's sampling) gave ~19 here, not 0.
    assert metrics.sliced_wasserstein(real, real.copy(), seed=5) == 0.0
    assert all(v == 0.0 for v in metrics.sliced_wasserstein_per_scale(real, real.copy()).values())
    # The shared positions are per image index: a reordered copy is another set of patches.
    assert metrics.sliced_wasserstein(real, real[::-1].copy(), seed=5) > 0.0


def test_sliced_wasserstein_of_a_collapsed_generator_is_finite():
    # Constant fakes (a collapsed generator) have zero-std channels: ProGAN's division
    # gives NaN, which would read as divergence. Their normalised patches are all 0, so
    # the distance is that of the reals' normalised patches to the origin.
    real = np.random.default_rng(4).uniform(-1, 1, size=(8, 32, 32, 3)).astype(np.float32)
    flat = np.full_like(real, 0.25)
    collapsed = metrics.sliced_wasserstein(real, flat, seed=2)
    assert np.isfinite(collapsed) and collapsed > metrics.sliced_wasserstein(real, real[::-1])
    assert metrics.sliced_wasserstein(flat, flat.copy()) == 0.0


def _biased_mmd2(x, y):
    """The V-statistic (diagonal terms kept): positive on average even for P == Q."""
    k = lambda a, b: (a @ b.T / a.shape[1] + 1.0) ** 3
    return k(x, x).mean() + k(y, y).mean() - 2.0 * k(x, y).mean()


def test_kernel_distance_is_unbiased_on_identical_distributions():
    rng = np.random.default_rng(7)
    draws = [(rng.normal(size=(16, 8)), rng.normal(size=(16, 8))) for _ in range(400)]
    kid = np.array([metrics.kernel_distance(x, y)[0] for x, y in draws])
    np.testing.assert_allclose(kid[:5], [_loop_mmd2(x, y) for x, y in draws[:5]], rtol=RTOL)
    standard_error = kid.std(ddof=1) / np.sqrt(len(kid))
    assert abs(kid.mean()) < 3 * standard_error
    assert np.mean(kid < 0) > 0.3  # an unbiased estimate of 0 is often negative
    biased = np.array([_biased_mmd2(x, y) for x, y in draws])
    assert biased.mean() > 20 * biased.std(ddof=1) / np.sqrt(len(biased))


def test_emoji_features_load_and_are_deterministic():
    extractor = metrics.EmojiFeatures()
    assert extractor.metadata["source"].startswith("emoji-datasource-twitter@")
    assert extractor.protocol["extractor_sha256"] == extractor.metadata["weights_sha256"]
    assert "not Inception" in extractor.protocol["feature_extractor"]
    images = metrics.quantize(np.random.default_rng(0).uniform(-1, 1, (20, 32, 32, 3)))
    features, logits = extractor(images)
    assert features.shape == (20, 128) and logits.shape == (20, len(extractor.classes))
    assert features.dtype == np.float32 and (features >= 0).all()  # after a ReLU
    again, _ = metrics.EmojiFeatures(batch_size=7)(images)  # fresh load, other batches
    np.testing.assert_allclose(again, features, rtol=1e-5, atol=1e-6)
    # 64 px inputs are resized to the network's 32 px by 2x2 means.
    big = np.repeat(np.repeat(images, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(extractor(big)[0], features, rtol=1e-4, atol=1e-5)
    faces = extractor(data.emoji_faces(32, batch_size=20, shuffle=False, repeat=False).take(1))
    assert faces[0].shape == (20, 128)
    assert np.linalg.norm(faces[0].std(0)) > np.linalg.norm(features.std(0))  # emoji vary more


def test_feature_extractor_by_name(tmp_path):
    assert isinstance(metrics.feature_extractor("emoji"), metrics.EmojiFeatures)
    assert isinstance(metrics.feature_extractor("auto"), metrics.EmojiFeatures)
    with pytest.raises(ValueError, match="inception_weights"):
        metrics.feature_extractor("inception")
    with pytest.raises(FileNotFoundError, match="no.pb"):
        metrics.feature_extractor("auto", str(tmp_path / "no.pb"))
    with pytest.raises(ValueError, match="Expected a feature extractor"):
        metrics.feature_extractor("vgg")


def test_extractors_state_one_protocol_and_features_are_checked_once():
    for extractor in (metrics.InceptionFeatures, metrics.EmojiFeatures):
        assert metrics.FeatureExtractor in extractor.__mro__  # declared, not only matching
    assert isinstance(metrics.feature_extractor("emoji"), metrics.FeatureExtractor)

    class NoProtocol:
        def __call__(self, images):
            return images, images

    assert not isinstance(NoProtocol(), metrics.FeatureExtractor)
    checked = metrics.check_features([[1, 2], [3, 4]], "real_features")
    assert checked.dtype == np.float64 and checked.shape == (2, 2)
    for bad in (np.zeros((1, 3)), np.zeros((4,)), np.zeros((2, 2, 2))):
        with pytest.raises(ValueError, match=r"Expected real_features as a \(N, D\) array"):
            metrics.check_features(bad, "real_features")
    # every feature metric goes through the same check, naming its own argument
    with pytest.raises(ValueError, match="Expected fake_features as a"):
        metrics.kernel_distance(np.zeros((4, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="Expected probes as a"):
        metrics.precision_recall(np.zeros((5, 3)), np.zeros(3))


def test_noise_floors_measure_disjoint_splits_and_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    images = rng.uniform(-1, 1, (40, 16, 16, 3)).astype(np.float32)
    flat = lambda x: (x.reshape(len(x), -1)[:, :24], None)  # a stand-in extractor
    floors = metrics.noise_floors(images, (8, 20), data="noise", extractor=flat, seeds=3)
    by_key = {(f.metric, f.num): f for f in floors}
    assert sorted(by_key) == sorted(
        (m, n) for m in ("swd", "fid", "kid", "precision", "recall") for n in (8, 20)
    )
    # Split s: the first N and the next N of default_rng(s).permutation, metric seed s.
    splits = [np.random.default_rng(s).permutation(40) for s in range(3)]
    swd16 = [metrics.sliced_wasserstein(images[o[:8]], images[o[8:16]], seed=s) for s, o in
             enumerate(splits)]  # fmt: skip
    assert by_key["swd", 8].real_vs_real == pytest.approx(np.mean(swd16))
    assert by_key["swd", 8].std == pytest.approx(np.std(swd16, ddof=1))
    fid = [metrics.frechet_distance(flat(images[o[:20]])[0], flat(images[o[20:]])[0]) for o in
           splits]  # fmt: skip
    assert by_key["fid", 20].real_vs_real == pytest.approx(np.mean(fid))
    assert by_key["swd", 8].self_distance == 0.0 and by_key["swd", 8].metric_seed_std > 0
    assert abs(by_key["fid", 20].self_distance) < 1e-6 and by_key["fid", 20].metric_seed_std == 0
    assert by_key["kid", 20].self_distance < 0  # unbiased: a set vs itself is below 0
    assert by_key["precision", 8].self_distance == by_key["recall", 8].self_distance == 1.0
    summary = metrics.noise.summary_table(floors, "noise").splitlines()
    swd8 = by_key["swd", 8]
    assert summary[2].startswith(f"| swd | {swd8.real_vs_real:.3g} ± {swd8.std:.2g} |")
    path = str(tmp_path / "floors.json")
    metrics.noise.save_noise_floors(path, floors)
    assert metrics.load_noise_floors(path)["noise", "swd", 8] == by_key["swd", 8]
    with pytest.raises(ValueError, match="two disjoint"):
        metrics.noise_floors(images, (21,))


def test_noise_floor_decides_significance_in_the_metric_direction():
    swd = metrics.NoiseFloor("d", "swd", 64, real_vs_real=40.0, std=4.0, self_distance=0.0,
                             metric_seed_std=1.0, seeds=5)  # fmt: skip
    assert swd.significant(12.0) and not swd.significant(-11.0)  # 2 * sqrt(2) * 4 = 11.3
    assert swd.distinguishable(48.5) and not swd.distinguishable(47.0)
    recall = dataclasses.replace(swd, metric="recall", real_vs_real=0.9, std=0.03)
    assert recall.distinguishable(0.8) and not recall.distinguishable(0.95)
