"""keras_models.recipes: the training settings of every backbone preset live here."""

import pytest

from keras_models import recipes
from keras_models.config import FIELDS
from keras_models.families import FAMILIES


def test_every_backbone_preset_has_its_sources_training_settings():
    assert {m: set(family.PRESETS) for m, family in FAMILIES.items()} == {
        m: set(presets) for m, presets in recipes.TRAINING.items()
    }
    for presets in recipes.TRAINING.values():
        for settings in presets.values():
            assert {"batch_size", "loss", "policy", "g_learning_rate"} <= set(settings)
            assert set(settings) <= set(FIELDS)


def test_each_family_chooses_subsets_as_its_authors_code():
    # BigGAN-CIFAR draws uniformly (np.random.choice, seed 0); DiffAugment-stylegan2 takes
    # the first records; without a recipe the choice stays stratified.
    assert FIELDS["subset_selection"].default == "stratified"
    expected = {"biggan_cifar10": "uniform", "biggan_cifar100": "uniform",
                "cr_biggan_cifar10": "uniform", "stylegan2_cifar10": "first",
                "stylegan2_fewshot": "first"}  # fmt: skip
    for recipe, selection in expected.items():
        for subset in ({}, {"percent": 10}, {"num_images": 100}):
            config = recipes.resolve(recipe, subset)
            assert config.subset_selection == selection
            assert config.seed == 0  # the authors' np.random.seed(0)
    override = {"percent": 10, "subset_selection": "stratified"}
    assert recipes.resolve("biggan_cifar10", override).subset_selection == "stratified"


def test_imagenet_trains_its_gin_files_lengths_and_learning_rates():
    # DiffAugment-biggan-imagenet128(-0.5, -0.25).gin: 250k / 150k / 60k steps, D lr
    # 4e-4 / 2e-4 / 2e-4; compare_gan's Adam epsilon and EMA start.
    for percent, steps, d_lr in ((None, 250_000, 4e-4), (50, 150_000, 2e-4), (25, 60_000, 2e-4)):
        config = recipes.resolve("biggan_imagenet128", {"percent": percent})
        assert (config.total_steps, config.d_learning_rate) == (steps, d_lr)
        assert (config.adam_epsilon, config.ema_start_step, config.ema_decay) == (
            1e-8,
            40_000,
            0.9999,
        )
    with pytest.raises(ValueError, match="lengths for 100%, 50%, 25% of the data only"):
        recipes.resolve("biggan_imagenet128", {"percent": 10})
    assert recipes.resolve("biggan_imagenet128", {"percent": 10, "steps": 5}).total_steps == 5


def test_cr_biggan_cifar100_and_animalface_follow_their_scripts():
    cr10, cr100 = recipes.resolve("cr_biggan_cifar10"), recipes.resolve("cr_biggan_cifar100")
    same = ("consistency_weight", "policy", "consistency_policy", "metrics", "best_metric")
    assert all(getattr(cr10, name) == getattr(cr100, name) for name in same)
    assert (cr100.dataset, cr100.kimg) == ("cifar100", 2000 * 50)  # 2,000 epochs of 50k
    subset = recipes.resolve("cr_biggan_cifar100", {"percent": 10})
    assert (subset.policy, subset.consistency_policy, subset.kimg) == (
        "translation,cutout",
        "",
        5000 * 5,
    )
    assert recipes.resolve("stylegan2_animalface", {"dataset": "cats"}).kimg == 500
    assert recipes.resolve("stylegan2_fewshot", {"dataset": "obama"}).kimg == 300
