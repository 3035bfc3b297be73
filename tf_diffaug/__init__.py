"""tf_diffaug: Differentiable Augmentation for data-efficient GAN training, in Keras 3.

Public API: `DiffAugment` (the layer), `diff_augment` (the function), `list_ops` (the op
names a policy accepts) and `parse_policy` (a policy's op names, in the order applied).

Reading guide. Start with `registry.py`: a table of the ops (parameters, ranges,
formulas) and one entry per op saying how its parameters are drawn and how it composes.
`augment.py` runs a policy (`Policy.sample`, `Policy.apply`) through those entries, and
`layer.py` wraps it as a Keras layer. Brightness, for example, takes three hops:

1. `registry.py`, `OPS["brightness"]`: `sample` draws b ~ U[-0.5, 0.5) from a
   `draws.Draw` (all of a transformation's random bits from one Philox call), and
   `apply` is `ColorAffine.brightness`;
2. `color.py`, `ColorAffine.brightness`: adds b to the offset of the per-sample affine
   map that any run of color ops composes into;
3. `transform.py`, `transform`: applies that map (and any masked shift after it) in one
   pass forward and one backward, with its hand-written gradient and its two
   formulations, for XLA and for TensorFlow's kernels, side by side.

Translation and cutout go the same way, through `geometry.py` (`Geometry`: a run of them
as one masked shift) instead of `color.py`; `flip` and `rotate90` apply on their own.
"""

from tf_diffaug.augment import diff_augment, list_ops, parse_policy
from tf_diffaug.layer import DiffAugment

__all__ = ["DiffAugment", "diff_augment", "list_ops", "parse_policy"]
__version__ = "0.1.0"
