"""keras_models: GANs for DiffAugment in Keras 3 (model, losses, backbones, data, metrics)."""

from keras_models import biggan, callbacks, data, losses, metrics, stylegan2
from keras_models.adaptive import AdaptiveStrength
from keras_models.callbacks import NonFiniteGuard
from keras_models.gan import GAN

__all__ = [
    "GAN",
    "AdaptiveStrength",
    "NonFiniteGuard",
    "biggan",
    "callbacks",
    "data",
    "losses",
    "metrics",
    "stylegan2",
]
