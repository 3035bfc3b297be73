"""tf_diffaug: Differentiable Augmentation for data-efficient GAN training, in Keras 3.

Public API: `DiffAugment` (the layer), `diff_augment` (the function), `list_ops` (the op
names a policy accepts), `parse_policy` (a policy's op names, in the order applied) and
`adjust_strength` (ADA's controller of the probability, a pure function). All of it runs
on the TensorFlow, JAX and PyTorch Keras backends, and imports no TensorFlow on the others.

Reading guide. Start with `registry.py`: a table of the ops (parameters, ranges,
formulas) and one entry per op saying how its parameters are drawn and how it composes.
`augment.py` runs a policy (`Policy.sample`, `Policy.apply`) through those entries, and
`layer.py` wraps it as a Keras layer. Brightness, for example, takes three hops:

1. `registry.py`, `OPS["brightness"]`: `sample` draws b ~ U[-0.5, 0.5) from a
   `draws.Draw` (all of a transformation's random numbers from one call), and
   `apply` is `ColorAffine.brightness`;
2. `color.py`, `ColorAffine.brightness`: adds b to the offset of the per-sample affine
   map that any run of color ops composes into;
3. `backend.py` picks the backend's `transform`, which applies that map (and any masked
   shift after it): on TensorFlow `transform.py`, in one pass forward and one backward,
   with its hand-written gradient and its two formulations, for XLA and for
   TensorFlow's kernels, side by side; on JAX and PyTorch `backend_ops.py`, in
   `keras.ops` with the backend's autodiff.

Translation and cutout go the same way, through `geometry.py` (`Geometry`: a run of them
as one masked shift) instead of `color.py`; `flip` and `rotate90` apply on their own.
"""

from tf_diffaug.adaptive import adjust_strength
from tf_diffaug.augment import diff_augment, list_ops, parse_policy
from tf_diffaug.layer import DiffAugment

__all__ = ["DiffAugment", "adjust_strength", "diff_augment", "list_ops", "parse_policy"]
__version__ = "0.1.0"
