"""keras_models: GANs for DiffAugment in Keras 3 (model, losses, backbones, data, metrics).

The names below load on first use (importing `keras_models` alone loads no TensorFlow),
so that the command line (`keras_models.cli.main`) can set up TensorFlow's logging
before TensorFlow loads.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keras_models import biggan, callbacks, data, losses, metrics, stylegan2
    from keras_models.adaptive import AdaptiveStrength
    from keras_models.callbacks import NonFiniteGuard
    from keras_models.gan import GAN

_HOMES = {
    "GAN": "keras_models.gan",
    "AdaptiveStrength": "keras_models.adaptive",
    "NonFiniteGuard": "keras_models.callbacks",
}
_SUBMODULES = ("biggan", "callbacks", "data", "losses", "metrics", "stylegan2")

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


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
