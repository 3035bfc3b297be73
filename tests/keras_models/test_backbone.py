"""keras_models.backbone: one preset schema and one `from_preset` for every family."""

import inspect

import pytest

from keras_models.families import FAMILIES


def _constructor_arguments(cls):
    return set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}


@pytest.mark.parametrize("model", sorted(FAMILIES))
def test_every_preset_holds_only_the_constructor_arguments_of_each_network(model):
    family = FAMILIES[model]
    for name, preset in family.PRESETS.items():
        assert set(preset) == {"generator", "discriminator"}, (model, name)
        for cls in (family.Generator, family.Discriminator):
            part = preset[cls.preset_part]
            assert set(part) <= _constructor_arguments(cls), (model, name, cls.__name__)
        assert preset["generator"]["resolution"] == preset["discriminator"]["resolution"]


@pytest.mark.parametrize(
    ("model", "family_name"), [("biggan", "BigGAN"), ("stylegan2", "StyleGAN2")]
)
def test_an_unknown_preset_names_the_valid_ones(model, family_name):
    family = FAMILIES[model]
    valid = str(sorted(family.PRESETS))
    for cls in (family.Generator, family.Discriminator):
        with pytest.raises(ValueError) as error:
            cls.from_preset("cifar")
        message = str(error.value)
        assert message.startswith(f"Unknown {family_name} preset.")
        assert valid in message and "name='cifar'" in message
