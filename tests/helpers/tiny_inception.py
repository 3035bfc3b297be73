"""A stand-in for the 2015-12-05 Inception graph: its tensor names, a known linear function."""

import numpy as np
import tensorflow as tf


def build_tiny_inception(path, dims=2048, seed=0):
    """A GraphDef with the 2015-12-05 graph's tensor names and a known linear function."""
    rng = np.random.default_rng(seed)
    projection = rng.normal(size=(3, dims)).astype(np.float32)
    weights = rng.normal(size=(dims, 1008)).astype(np.float32) * 0.01
    bias = rng.normal(size=(1008,)).astype(np.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32)])
    def graph(images):
        x = tf.identity(images, name="Mul")
        pooled = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        pool = tf.identity(tf.einsum("bijc,cd->bijd", pooled, projection), name="pool_3")
        # Like the real graph, its own logits only work for a batch of 1.
        flat = tf.reshape(pool, [1, dims])
        matmul = tf.matmul(flat, weights, name="softmax/logits/MatMul")
        return tf.nn.bias_add(matmul, bias, name="softmax/logits")

    graph_def = graph.get_concrete_function().graph.as_graph_def()
    with open(path, "wb") as f:
        f.write(graph_def.SerializeToString())
    return projection, weights, bias
