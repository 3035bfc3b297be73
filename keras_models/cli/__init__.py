"""The training command line, and the same training run as one call from Python.

From a shell (`tf-diffaug-train`, or `python train.py` in a checkout): see
`keras_models.cli.main`. From Python, without command-line flags:

```python
from keras_models import recipes
from keras_models.cli import train

config = recipes.resolve("demo", {"steps": 100, "width": 2})  # preset + overrides
training = train(config, run_dir="runs/demo", overwrite=True)  # RunOptions fields
training.gan.generate(16)
```

or `Training(config, RunOptions(...)).run()`. Bad input raises `UsageError` before
anything is trained or written; a run that diverges or cannot write its outputs raises
`TrainingError` (its run directory resumes). Nothing here reads absl flags or exits.

Modules: `training` (`Training`, `train`), `options` (`RunOptions` and their flags),
`flags` (one flag per config field), `assembly` (a run's callbacks), `summary` (its
start-up lines), `commands` (`generate`, `nearest`), `errors`, `native_logs`
(TensorFlow's C++ start-up lines), `main` (the command line: flags, commands, exit
codes). The names below load on first use, so that `main` can set up TensorFlow's
logging before TensorFlow loads.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keras_models.cli.errors import TrainingError, UsageError
    from keras_models.cli.options import RunOptions
    from keras_models.cli.training import Training, train

_HOMES = {
    "Training": "keras_models.cli.training",
    "train": "keras_models.cli.training",
    "RunOptions": "keras_models.cli.options",
    "UsageError": "keras_models.cli.errors",
    "TrainingError": "keras_models.cli.errors",
}
__all__ = ["RunOptions", "Training", "TrainingError", "UsageError", "train"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
