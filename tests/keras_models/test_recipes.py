"""keras_models.recipes: the training settings of every backbone preset live here."""

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
