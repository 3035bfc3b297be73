"""StyleGAN2 (Karras et al., 2020) in Keras 3 with pure TensorFlow ops (XLA-friendly).

`Generator` and `Discriminator` are plain Keras models for `keras_models.GAN`;
`PRESETS` names the papers' architectures (`Generator.from_preset(name, **overrides)`);
how each was trained is in `keras_models.recipes`.
"""

from keras_models.stylegan2.discriminator import Discriminator
from keras_models.stylegan2.generator import Generator
from keras_models.stylegan2.presets import PRESETS
from keras_models.stylegan2.regularizers import PathLengthRegularizer

__all__ = ["Discriminator", "Generator", "PRESETS", "PathLengthRegularizer"]
