"""`keras_models.gan`: the GAN model (`GAN`) and the modules beside it.

`model` holds `GAN` with its construction, augmentation routing and train and test
steps. Beside it: `batches` (the dataset batch and the draws of a step), `ema` (the EMA
generator and its standing statistics), `export` (`generate`, `export_generator`),
`guard` (the non-finite skip-and-restore), `checkpoint` (exact resume), `logs` (the
trackers) and `distribution` (replica helpers); `_tf_private` isolates the private
TensorFlow and Keras API they use.
"""

from keras_models.gan.model import AUGMENTED_ROLES, GAN

__all__ = ["AUGMENTED_ROLES", "GAN"]
