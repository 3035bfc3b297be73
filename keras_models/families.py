"""The backbone families by the name a training configuration gives them (`--model`).

Each family is a package with `Generator`, `Discriminator` (`keras_models.backbone`'s
interface) and `PRESETS` (`{name: keras_models.backbone.Preset}`).
"""

import types

from keras_models import biggan, stylegan2

FAMILIES: dict[str, types.ModuleType] = {"biggan": biggan, "stylegan2": stylegan2}
