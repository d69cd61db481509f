"""Shared parameters: make the generated model tie exactly the weights the modified instance ties.

A fresh model ties weights (RoBERTa's ``lm_head.decoder.weight`` is ``roberta.embeddings.word_embeddings.weight``).
Generated code rebuilds whole subtrees, which unties weights that cross them; a user who replaced one side of
a tie broke it on purpose. The compiler builds the generated model on the meta device, compares which
parameter names share a tensor there and in the instance, and declares the difference at the end of the top
class's ``__init__``: ``self.a.weight = self.b.weight`` to tie, a fresh ``nn.Parameter`` to untie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from archit.declaration.rendering import Target
from archit.errors import DeclarationError
from archit.modeling.ties import leaders

__all__ = ["leaders", "tie_statements"]


def tie_statements(
    instance: nn.Module, generated: nn.Module, fresh_parameter: Callable[[torch.Tensor], str]
) -> tuple[list[str], list[str]]:
    """Statements for the top class's ``__init__`` that give ``generated`` the instance's sharing of parameters.

    Args:
        instance: the modified model.
        generated: the generated top class, built (on meta) without these statements.
        fresh_parameter: writes the expression of a new parameter shaped like a tensor.

    Returns:
        The statements (fresh parameters first, then ties) and a description of each change.

    Raises:
        DeclarationError: the two models do not have the same parameter names (a bug of the compiler).
    """
    mine, theirs = leaders(instance), leaders(generated)
    if set(mine) != set(theirs):
        missing, extra = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
        raise DeclarationError(
            f"The generated classes do not rebuild the instance's parameters (missing {missing[:5]}, unexpected "
            f"{extra[:5]}); this is a bug of archit.declaration, please report it with the modification made."
        )
    owner = {name: token for name, token in theirs.items()}  # which tensor each name holds, as it will be
    fresh: list[str] = []
    ties: list[str] = []
    changes: list[str] = []
    for name in theirs:
        if mine[name] == name and theirs[name] != name:
            fresh.append(_target(generated, name).assign(fresh_parameter(instance.get_parameter(name))))
            owner[name] = name
            changes.append(f"{name}: parameter untied from {theirs[name]}")
    for name in theirs:
        leader = mine[name]
        if leader != name and owner[name] != owner[leader]:
            ties.append(_target(generated, name).assign(_target(generated, leader).read()))
            owner[name] = owner[leader]
            changes.append(f"{name}: parameter tied to {leader}")
    return fresh + ties, changes


def _target(model: nn.Module, name: str) -> Target:
    """The expression of parameter ``name`` relative to ``self`` in the top class."""
    *path, attribute = name.split(".")
    expression, module = "self", model
    for part in path:
        expression = Target.of(expression, module, part).read()
        module = cast(nn.Module, module._modules[part])  # a parameter's path goes through modules only
    return Target.of(expression, module, attribute)
