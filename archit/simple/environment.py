"""``archit env``: the versions, platform and devices of this installation, ready to paste into a bug report."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import platform
import re
import sys

__all__ = ["CONSTRAINTS_FILE", "environment_report", "tested_versions"]

CONSTRAINTS_FILE = "constraints.txt"
"""The tested set of versions, shipped inside the package (``archit/constraints.txt``)."""

REPORTED_PACKAGES = ("torch", "transformers", "tokenizers", "accelerate", "safetensors", "huggingface-hub")


def tested_versions() -> dict[str, str]:
    """The versions of the last green CI run, by normalised package name (``huggingface-hub``)."""
    text = importlib.resources.files("archit").joinpath(CONSTRAINTS_FILE).read_text(encoding="utf-8")
    versions = {}
    for line in text.splitlines():
        name, separator, version = line.partition("==")
        if separator and not line.startswith("#"):
            versions[_normalised(name)] = version.strip()
    return versions


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _package_line(package: str, tested: dict[str, str]) -> str:
    installed = _installed(package)
    expected = tested.get(_normalised(package))
    if installed is None:
        return f"- {package}: not installed" + (f" (tested: {expected})" if expected else "")
    if expected is None:
        return f"- {package}: {installed}"
    # a local label (2.13.0+cpu) names the build, not another release
    same = installed.split("+")[0] == expected.split("+")[0]
    return f"- {package}: {installed} ({'the tested version' if same else f'tested: {expected}'})"


def _torch_lines() -> list[str]:
    try:
        import torch
    except ImportError:
        return []
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index} ({torch.cuda.get_device_name(index)})" for index in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return [
        f"- torch threads: {torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op",
        f"- devices torch sees: {', '.join(devices)}",
    ]


def environment_report() -> str:
    """The report ``archit env`` prints: one Markdown bullet per fact."""
    import archit

    tested = tested_versions()
    lines = [
        f"- archit: {archit.__version__}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        f"- platform: {platform.platform()}",
        *(_package_line(package, tested) for package in REPORTED_PACKAGES),
        *_torch_lines(),
    ]
    return "\n".join(lines)
