"""tf_diffaug: Differentiable Augmentation for data-efficient GAN training, in Keras 3.

Public API: `DiffAugment` (the layer), `diff_augment` (the function) and `list_ops`.
"""

from tf_diffaug.augment import diff_augment, list_ops
from tf_diffaug.layer import DiffAugment

__all__ = ["DiffAugment", "diff_augment", "list_ops"]
__version__ = "0.1.0"
