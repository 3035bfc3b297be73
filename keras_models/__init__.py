"""keras_models: GANs for DiffAugment in Keras 3 (model, losses, backbones, data, metrics).

The names below load on first use (importing `keras_models` alone loads no TensorFlow),
so that the command line (`keras_models.cli.main`) can set up TensorFlow's logging
before TensorFlow loads.
"""

import importlib
import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Any

# The GAN toolkit's dependencies, which `pip install 'tf-diffaug[gan]'` brings (the base
# install is `tf_diffaug`'s: Keras alone, on any backend).
_REQUIRED = ("tensorflow", "tensorflow_datasets", "absl", "scipy", "tensorboard", "PIL")


def _check_environment() -> None:
    """Names what is missing, and how to get it, before an import fails deep inside."""
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"keras_models (the GAN toolkit) needs {', '.join(missing)}, which are not "
            "installed: pip install 'tf-diffaug[gan]' (tf_diffaug, the DiffAugment layer, "
            "needs only Keras)."
        )
    keras = sys.modules.get("keras")
    backend = keras.backend.backend() if keras else os.environ.get("KERAS_BACKEND")
    if backend not in (None, "tensorflow"):
        raise ImportError(
            "keras_models (the GAN toolkit) runs on the TensorFlow Keras backend, and "
            f"KERAS_BACKEND={backend}: set KERAS_BACKEND=tensorflow for it (the "
            "DiffAugment layer, tf_diffaug, runs on jax and torch too)."
        )


_check_environment()

if TYPE_CHECKING:
    from keras_models import biggan, callbacks, data, losses, metrics, stylegan2
    from keras_models.adaptive import AdaptiveStrength
    from keras_models.callbacks import NonFiniteGuard
    from keras_models.gan import GAN
    from keras_models.lecam import LeCamRegularizer

_HOMES = {
    "GAN": "keras_models.gan",
    "AdaptiveStrength": "keras_models.adaptive",
    "LeCamRegularizer": "keras_models.lecam",
    "NonFiniteGuard": "keras_models.callbacks",
}
_SUBMODULES = ("biggan", "callbacks", "data", "losses", "metrics", "stylegan2")

__all__ = [
    "GAN",
    "AdaptiveStrength",
    "LeCamRegularizer",
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
