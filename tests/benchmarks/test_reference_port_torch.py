"""The PyTorch baseline is a faithful port: on the same parameters it gives the reference
ops' images (`tests.helpers.diffaugment_numpy`) and their gradients. No TensorFlow here."""

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="the PyTorch reference port needs torch (pip install torch)"
)

from tests.helpers import diffaugment_numpy as ref  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import reference_port_torch as port  # noqa: E402

SIZES = [(32, 32), (20, 12), (7, 9), (5, 16)]
POLICY = ["brightness", "saturation", "contrast", "translation", "cutout"]


def _params(rng, batch, height, width):
    """Parameters in the sampler's ranges, with both extremes of every geometric one."""
    ky, kx = ref.scaled_size(height, 0.125), ref.scaled_size(width, 0.125)
    ch, cw = ref.scaled_size(height, 0.5), ref.scaled_size(width, 0.5)
    cy_max, cx_max = height - ch % 2, width - cw % 2  # inclusive upper ends
    ty = np.concatenate([[-ky, ky], rng.integers(-ky, ky + 1, batch - 2)])
    tx = np.concatenate([[kx, -kx], rng.integers(-kx, kx + 1, batch - 2)])
    cy = np.concatenate([[0, cy_max], rng.integers(0, cy_max + 1, batch - 2)])
    cx = np.concatenate([[cx_max, 0], rng.integers(0, cx_max + 1, batch - 2)])
    return {
        "brightness": rng.uniform(-0.5, 0.5, batch).astype(np.float32),
        "saturation": rng.uniform(0.0, 2.0, batch).astype(np.float32),
        "contrast": rng.uniform(0.5, 1.5, batch).astype(np.float32),
        "translation": np.stack([ty, tx], 1).astype(np.int32),
        "cutout": np.stack([cy, cx], 1).astype(np.int32),
    }


def _nchw(x):
    return torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))))


def _nhwc(x):
    return np.transpose(x.detach().numpy(), (0, 2, 3, 1))


def _torch_params(params):
    return {name: torch.from_numpy(value) for name, value in params.items()}


@pytest.mark.parametrize("height,width", SIZES)
def test_port_equals_the_numpy_reference_on_injected_parameters(height, width):
    rng = np.random.default_rng(height * 100 + width)
    x = rng.uniform(-1, 1, (8, height, width, 3)).astype(np.float32)
    params = _params(rng, 8, height, width)
    for name in ("translation", "cutout"):  # exact: they only move or zero pixels
        out = port.OPS[name](_nchw(x), torch.from_numpy(params[name]))
        np.testing.assert_array_equal(_nhwc(out), ref.OPS[name](x, params[name]))
    for name in ("brightness", "saturation", "contrast"):
        out = port.OPS[name](_nchw(x), torch.from_numpy(params[name]))
        expected = ref.OPS[name](x.astype(np.float64), params[name])
        np.testing.assert_allclose(_nhwc(out), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        _nhwc(port.augment(_nchw(x), _torch_params(params))),
        ref.augment(x, params, POLICY),
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.parametrize("height,width", SIZES)
def test_gradients_are_the_reference_adjoints(height, width):
    rng = np.random.default_rng(height * 100 + width + 1)
    x = rng.uniform(-1, 1, (8, height, width, 3)).astype(np.float32)
    w = rng.uniform(-1, 1, x.shape).astype(np.float32)
    params = _params(rng, 8, height, width)

    def grad(op, value):
        xt = _nchw(x).requires_grad_(True)
        (op(xt, value) * _nchw(w)).sum().backward()
        return _nhwc(xt.grad)

    t, centers = params["translation"], params["cutout"]
    # out[h, w] = x[h + ty, w + tx], so d/dx of sum(out * w) is w shifted by -t.
    np.testing.assert_array_equal(
        grad(port.translation, torch.from_numpy(t)), ref.translation(w, -t)
    )
    np.testing.assert_array_equal(
        grad(port.cutout, torch.from_numpy(centers)), w * ref.cutout_mask(x.shape, centers)
    )
    np.testing.assert_array_equal(grad(port.brightness, torch.from_numpy(params["brightness"])), w)


def test_the_whole_policy_passes_gradcheck():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-1, 1, (3, 3, 7, 9))).requires_grad_(True)
    params = _torch_params(_params(rng, 3, 7, 9))
    assert torch.autograd.gradcheck(lambda x: port.augment(x, params), (x,))


def test_sampler_uses_the_same_ranges_and_torchs_stateful_rng():
    torch.manual_seed(0)
    params = port.sample(torch.zeros((4096, 3, 16, 40)))
    translation, cutout = params["translation"].numpy(), params["cutout"].numpy()
    assert (translation[:, 0].min(), translation[:, 0].max()) == (-2, 2)  # int(16/8 + .5)
    assert (translation[:, 1].min(), translation[:, 1].max()) == (-5, 5)  # int(40/8 + .5)
    assert (cutout[:, 0].min(), cutout[:, 0].max()) == (0, 16)  # c = 8, even: [0, 17)
    assert (cutout[:, 1].min(), cutout[:, 1].max()) == (0, 40)  # c = 20, even: [0, 41)
    odd = port.sample(torch.zeros((4096, 3, 7, 10)))["cutout"].numpy()
    assert odd[:, 0].max() == 7 and odd[:, 1].max() == 9  # c = 4 even: [0, 8); 5 odd: [0, 10)
    for name, low, high in [
        ("brightness", -0.5, 0.5),
        ("saturation", 0, 2),
        ("contrast", 0.5, 1.5),
    ]:
        values = params[name].numpy()
        assert values.dtype == np.float32 and values.shape == (4096,)
        assert low <= values.min() < low + 0.01 and high - 0.01 < values.max() < high
    torch.manual_seed(0)
    again = port.sample(torch.zeros((4096, 3, 16, 40)))
    assert all(torch.equal(params[name], again[name]) for name in params)


def test_sampled_parameters_give_the_reference_images():
    torch.manual_seed(1)
    x = torch.rand(16, 3, 9, 14) * 2 - 1
    params = port.sample(x)
    np.testing.assert_allclose(
        _nhwc(port.augment(x, params)),
        ref.augment(_nhwc(x), {k: v.numpy() for k, v in params.items()}, POLICY),
        rtol=1e-6,
        atol=1e-6,
    )
