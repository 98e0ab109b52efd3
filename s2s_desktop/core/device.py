"""Choosing where and how a model runs: device, compute type, threads."""

from __future__ import annotations

import os
from dataclasses import dataclass

from s2s_desktop.core.errors import DeviceError

DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = ("auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "float16", "bfloat16", "float32")
# Preferred compute types per device, best first.
_PREFERENCE = {
    "cpu": ("int8", "int8_float32", "float32"),
    "cuda": ("int8_float16", "float16", "int8", "float32"),
}


@dataclass(frozen=True)
class DeviceChoice:
    device: str
    compute_type: str
    intra_threads: int
    inter_threads: int = 1

    def describe(self) -> str:
        if self.device == "cpu":
            return f"CPU · {self.compute_type} · {self.intra_threads} threads"
        return f"CUDA · {self.compute_type}"


def cuda_device_count() -> int:
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count()
    except Exception:  # a broken CUDA install must not stop CPU use
        return 0


def supported_compute_types(device: str) -> set[str]:
    import ctranslate2

    try:
        return set(ctranslate2.get_supported_compute_types(device))
    except Exception:
        return set()


def default_threads() -> int:
    """Physical-ish core count: CTranslate2 gains nothing from SMT siblings."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    return max(1, min(count, 8))


def choose_device(device: str = "auto", compute_type: str = "auto", intra_threads: int = 0) -> DeviceChoice:
    """Resolve "auto" values and validate explicit ones against this machine."""
    if device not in DEVICES:
        raise DeviceError(f"Unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if compute_type not in COMPUTE_TYPES:
        raise DeviceError(f"Unknown compute type {compute_type!r}; choose one of {', '.join(COMPUTE_TYPES)}")
    if device == "auto":
        device = "cuda" if cuda_device_count() > 0 else "cpu"
    elif device == "cuda" and cuda_device_count() == 0:
        raise DeviceError("No CUDA GPU is available here; use device 'auto' or 'cpu'")
    supported = supported_compute_types(device)
    if compute_type == "auto":
        compute_type = next((c for c in _PREFERENCE[device] if c in supported), "default")
    elif compute_type not in supported:
        raise DeviceError(
            f"Compute type {compute_type!r} is not supported on {device.upper()} here; "
            f"supported: {', '.join(sorted(supported)) or 'none'}"
        )
    threads = intra_threads if intra_threads > 0 else default_threads()
    return DeviceChoice(device, compute_type, threads)
