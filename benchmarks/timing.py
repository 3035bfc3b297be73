"""The one timing loop the benchmarks share."""

import time

import numpy as np
import tensorflow as tf


def seconds_per_call(fn, args, iters):
    """Mean wall time of `fn(*args)` over `iters` calls.

    TensorFlow runs ops asynchronously, so the clock stops only once the last result
    has been fetched.
    """
    start = time.perf_counter()
    for _ in range(iters):
        result = fn(*args)
    tf.nest.map_structure(np.asarray, result)
    return (time.perf_counter() - start) / iters
