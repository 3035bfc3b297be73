"""BigGAN generator and projection discriminator with the DiffAugment paper's presets."""

from keras_models.biggan.model import Discriminator, Generator
from keras_models.biggan.presets import PRESETS

__all__ = ["Discriminator", "Generator", "PRESETS"]
