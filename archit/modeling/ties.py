"""Weight tying, in one place: which weights a head declares tied, and which weights really are.

A language-modelling head shares its decoder matrix with the backbone's input embeddings where the backbone's
config ties them (``tie_word_embeddings``), as transformers' own ``XForMaskedLM`` and ``XForCausalLM`` do. What a
head *declares* (:attr:`~archit.modeling.heads.HeadSpec.tied_weights`) becomes the model's
``_tied_weights_keys``, which transformers ties when it builds and loads the model, or not, as the config says.
What *is* tied is read from the parameters themselves: the same tensor under several names. Only the latter is
reported (``LoadingReport.tied``), so a decoder the config left untied is never mistaken for a tied one.
"""

from __future__ import annotations

from torch import nn

from archit._compat import tied_weights_keys
from archit.errors import CheckpointError

__all__ = ["INPUT_EMBEDDINGS", "declared_ties", "leaders", "parameter_name", "tied_pairs"]

INPUT_EMBEDDINGS = "<input_embeddings>"
"""Source name in :attr:`HeadSpec.tied_weights` standing for the backbone's input embedding matrix."""


def leaders(model: nn.Module) -> dict[str, str]:
    """Map every parameter name to the first name under which the same tensor appears (itself if unshared).

    Args:
        model: any module.

    Returns:
        ``{name: leader}`` in ``named_parameters`` order, shared names included.
    """
    first: dict[int, str] = {}
    return {
        name: first.setdefault(id(parameter), name)
        for name, parameter in model.named_parameters(remove_duplicate=False)
    }


def tied_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """``(name, leader)`` for every parameter name that holds the same tensor as an earlier one (its leader),
    e.g. ``("head.decoder.weight", "bert.embeddings.word_embeddings.weight")`` for a tied masked-LM head."""
    return [(name, leader) for name, leader in leaders(model).items() if name != leader]


def parameter_name(module: nn.Module, submodule: nn.Module, prefix: str) -> str:
    """The name of ``submodule``'s ``weight`` inside ``module``, under ``prefix``.

    Raises:
        CheckpointError: ``submodule`` is not part of ``module``.
    """
    for name, candidate in module.named_modules():
        if candidate is submodule:
            return f"{prefix}.{name}.weight" if name else f"{prefix}.weight"
    raise CheckpointError(f"The input embeddings of {type(module).__name__} are not among its modules.")


def declared_ties(tied_weights: dict[str, str], backbone: nn.Module, prefix: str) -> tuple[dict | list, str | None]:
    """The model's ``_tied_weights_keys`` for a head's declared ties, and the name of the head weight tied to the
    input embeddings (the output embeddings), if any.

    Args:
        tied_weights: the head's :attr:`HeadSpec.tied_weights` (names inside the head; sources inside the head
            or :data:`INPUT_EMBEDDINGS`).
        backbone: the wrapped backbone.
        prefix: the backbone's attribute name in the model (its ``base_model_prefix``).

    Returns:
        ``_tied_weights_keys`` in the installed transformers' format, and ``head.<name>`` of the output embedding
        weight (``None`` when the head ties none to the embeddings).
    """
    if not tied_weights:
        return tied_weights_keys({}), None
    embedding_name = parameter_name(backbone, backbone.get_input_embeddings(), prefix)
    tied = {
        f"head.{target}": embedding_name if source == INPUT_EMBEDDINGS else f"head.{source}"
        for target, source in tied_weights.items()
    }
    output_embedding = next((target for target, source in tied.items() if source == embedding_name), None)
    return tied_weights_keys(tied), output_embedding
