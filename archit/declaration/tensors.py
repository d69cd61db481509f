"""Parameters and buffers: what makes two of them structurally the same, and the code that creates one.

A parameter or persistent buffer is written as zeros of its shape (its values come from the state dict); a
non-persistent buffer is not in checkpoints, so its values are written into the code, when they follow a
pattern code can state (a constant, an ``arange``, or a short literal).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from archit.declaration.rendering import Imports, Scope, render_value
from archit.errors import DeclarationError

__all__ = ["TensorEntry", "TensorText", "tensor_entries", "tensor_signature"]

_MAX_LITERAL_ELEMENTS = 64


class TensorEntry(NamedTuple):
    """A parameter or buffer registered on a module (the tensor is ``None`` when registered as ``None``)."""

    kind: str  # "parameter" or "buffer"
    tensor: torch.Tensor | None
    persistent: bool


def tensor_entries(module: nn.Module) -> dict[str, TensorEntry]:
    """The module's own parameters, then its own buffers, by name.

    Args:
        module: any module.

    Returns:
        ``{name: entry}``; parameters are persistent.
    """
    entries: dict[str, TensorEntry] = {}
    for name, parameter in module._parameters.items():
        entries[name] = TensorEntry("parameter", parameter, True)
    for name, buffer in module._buffers.items():
        entries[name] = TensorEntry("buffer", buffer, name not in module._non_persistent_buffers_set)
    return entries


def tensor_signature(entry: TensorEntry) -> tuple[Any, ...]:
    """What makes a parameter or buffer structurally the same: kind, shape, dtype family, persistence."""
    kind, tensor, persistent = entry
    if tensor is None:
        return kind, None, persistent
    dtype = "floating" if tensor.is_floating_point() else str(tensor.dtype)
    return kind, tuple(tensor.shape), dtype, persistent


class TensorText:
    """Writes the expressions that create parameters and buffers in a generated module.

    Args:
        imports: the module's imports; extended with ``torch`` and ``nn``.
        float_dtype: the instance's floating-point dtype, left implicit (the generated model gets it from how
            it is built and loaded); ``None`` when the instance has no floating-point parameter.
    """

    def __init__(self, imports: Imports, float_dtype: torch.dtype | None) -> None:
        self.imports = imports
        self.float_dtype = float_dtype

    def parameter(self, tensor: torch.Tensor) -> str:
        """A new ``nn.Parameter`` shaped like ``tensor`` (frozen when ``tensor`` does not require grad)."""
        self.imports.name_for(nn.Parameter, "parameter")
        frozen = "" if tensor.requires_grad else ", requires_grad=False"
        return f"nn.Parameter({self._zeros(tensor)}{frozen})"

    def buffer(self, tensor: torch.Tensor, persistent: bool, what: str) -> str:
        """A persistent buffer's values come from the state dict; a non-persistent one's must be written.

        Args:
            tensor: the buffer.
            persistent: whether it is in the state dict.
            what: the buffer for error messages (``"buffer 'steps' of Linear at 'lm_head.dense'"``).

        Returns:
            The expression that creates it.

        Raises:
            DeclarationError: a non-persistent buffer is on the meta device, or its values follow no pattern
                code can state.
        """
        if persistent:
            return self._zeros(tensor)
        if tensor.device.type == "meta":
            raise DeclarationError(
                f"The non-persistent {what} is on the meta device, so its values are unknown, and they are not "
                "in the state dict either. Declare it from a model with real weights, or make it persistent."
            )
        torch_name = self.imports.module("torch")
        dtype = self._dtype_suffix(tensor, always=True)
        shape = tuple(tensor.shape)
        flat = tensor.detach().flatten()
        if flat.numel() == 0 or bool((flat == flat[0]).all()):
            fill = flat[0].item() if flat.numel() else 0
            if fill == 0:
                return f"{torch_name}.zeros({shape!r}{dtype})"
            return f"{torch_name}.full({shape!r}, {render_value(fill, Scope(), self.imports, what)}{dtype})"
        if flat.dtype != torch.bool and torch.equal(flat, torch.arange(flat.numel()).to(flat.dtype)):
            view = "" if tensor.dim() == 1 else f".view{shape!r}"
            return f"{torch_name}.arange({flat.numel()}{dtype}){view}"
        if flat.numel() <= _MAX_LITERAL_ELEMENTS:
            return f"{torch_name}.tensor({render_value(tensor.tolist(), Scope(), self.imports, what)}{dtype})"
        raise DeclarationError(
            f"The non-persistent {what} holds {flat.numel()} values that are not in the state dict and follow "
            f"no pattern the compiler writes (constant, arange, or at most {_MAX_LITERAL_ELEMENTS} values). "
            "Register it with persistent=True, or compute it in the module's __init__."
        )

    def _dtype_suffix(self, tensor: torch.Tensor, always: bool = False) -> str:
        if always or not tensor.is_floating_point() or (self.float_dtype and tensor.dtype != self.float_dtype):
            return f", dtype={render_value(tensor.dtype, Scope(), self.imports, 'dtype')}"
        return ""

    def _zeros(self, tensor: torch.Tensor) -> str:
        shape = ", ".join(str(s) for s in tensor.shape) if tensor.dim() else "()"
        return f"{self.imports.module('torch')}.zeros({shape}{self._dtype_suffix(tensor)})"
