"""Callbacks that show GAN training working and control the run.

Modules, one concept each:

* `periodic`: `PeriodicCallback`, the base of the callbacks below that run every N steps
  and at the end of training;
* `observers`: `SampleGrid`, `OverfittingMonitor`, `StrengthRecorder` (adaptive p and
  r_t over training), `NearestNeighbourReport`;
* `evaluator`: `MetricEvaluator` (SWD, FID/KID/IS/precision-recall, best weights);
* `run_control`: `CheckpointEveryEpoch`, `StopAtStep`, `NonFiniteGuard`;
* `interruption`: `StopOnSignal` (SIGINT/SIGTERM: save and stop) and `SaveOnPreemption`
  (TensorFlow's preemption handling, for multi-worker runs);
* `batches`: running G and D in batches (`generate`, `fixed_latents`).

They rely only on the public API of `keras_models.GAN`:
`gan.generate(latents, labels, use_ema=True)`, `gan.latent_dim`, `gan.num_classes` and
`gan.discriminate(images, labels, role="clean", training=False)`, which returns
`(logits (B,), images seen)`: D is only ever run through the GAN, its single
augmentation point ("clean" is never augmented).

```python
guard = NonFiniteGuard(checkpoint_dir="runs/x/checkpoints")
callbacks = [
    SampleGrid(64, log_dir="runs/x", output_dir="runs/x/samples", every_n_steps=500,
               guard=guard),
    MetricEvaluator(train_images, log_dir="runs/x", every_n_steps=2000,
                    checkpoint_path="runs/x/best.weights.h5", monitor="swd", guard=guard),
    OverfittingMonitor(train_images, heldout_images, log_dir="runs/x", every_n_steps=500,
                       guard=guard),
    guard,  # after the callbacks whose metrics it checks, before the checkpoint
    NearestNeighbourReport(train_images, "runs/x/neighbours.png", guard=guard),
    CheckpointEveryEpoch(manager, gan.train_steps, guard),
]
```

Deprecated: `image_grid`, `save_png` and `nearest_neighbours` moved to
`keras_models.images`; importing them from here keeps working for one release.
"""

from keras_models.callbacks.batches import fixed_latents, generate
from keras_models.callbacks.evaluator import MetricEvaluator
from keras_models.callbacks.interruption import Preempted, SaveOnPreemption, StopOnSignal
from keras_models.callbacks.observers import (
    NearestNeighbourReport,
    OverfittingMonitor,
    SampleGrid,
    StrengthRecorder,
)
from keras_models.callbacks.periodic import PeriodicCallback
from keras_models.callbacks.run_control import CheckpointEveryEpoch, NonFiniteGuard, StopAtStep
from keras_models.images import image_grid, nearest_neighbours, save_png  # deprecated here

__all__ = [
    "CheckpointEveryEpoch",
    "MetricEvaluator",
    "NearestNeighbourReport",
    "NonFiniteGuard",
    "OverfittingMonitor",
    "PeriodicCallback",
    "Preempted",
    "SampleGrid",
    "SaveOnPreemption",
    "StopAtStep",
    "StopOnSignal",
    "StrengthRecorder",
    "fixed_latents",
    "generate",
    "image_grid",
    "nearest_neighbours",
    "save_png",
]
