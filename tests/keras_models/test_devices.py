"""Where XLA and bfloat16 pay: `keras_models.devices`."""

import types

import pytest

from keras_models import devices

INTEL_SAPPHIRE_RAPIDS = "fpu vme avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8"
AMD_ZEN3 = "fpu vme sse4_2 avx avx2 fma bmi2"


def cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(
        "".join(f"processor\t: {i}\nmodel name\t: CPU\nflags\t\t: {flags}\n\n" for i in range(2))
    )
    return str(path)


def test_native_bfloat16_flags_are_read_from_cpuinfo(tmp_path):
    assert devices.native_bfloat16_flags(cpuinfo(tmp_path, INTEL_SAPPHIRE_RAPIDS)) == [
        "avx512_bf16",
        "amx_bf16",
    ]
    assert devices.native_bfloat16_flags(cpuinfo(tmp_path, AMD_ZEN3)) == []
    assert devices.native_bfloat16_flags(str(tmp_path / "absent")) == []  # not Linux


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (INTEL_SAPPHIRE_RAPIDS, ("mixed_bfloat16", "auto: CPU with native bfloat16 (avx512_bf16)")),
        (AMD_ZEN3, ("float32", "auto: CPU without native bfloat16")),
    ],
)
def test_auto_precision_on_a_cpu_depends_on_its_bfloat16_instructions(tmp_path, flags, expected):
    assert devices.resolve_precision("auto", cpuinfo(tmp_path, flags)) == expected


def test_auto_precision_is_float32_on_an_accelerator(tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "accelerators", lambda: [types.SimpleNamespace(device_type="GPU")])
    path = cpuinfo(tmp_path, INTEL_SAPPHIRE_RAPIDS)
    assert devices.resolve_precision("auto", path) == ("float32", "auto: GPU found")


def test_an_explicit_precision_is_kept(tmp_path):
    path = cpuinfo(tmp_path, INTEL_SAPPHIRE_RAPIDS)
    for policy in ("float32", "mixed_float16", "mixed_bfloat16"):
        assert devices.resolve_precision(policy, path) == (policy, f"--mixed_precision={policy}")
    precision = devices.resolve_precision("auto", path)
    assert (precision.policy, precision.reason) == precision  # a named (policy, reason)
