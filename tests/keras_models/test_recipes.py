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
