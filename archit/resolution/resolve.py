"""Find the family of a model type, config, checkpoint directory, model instance or tokenizer."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import transformers
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from archit._compat import is_known_model_type, is_text_model_type
from archit.errors import CheckpointError, UnknownArchitectureError
from archit.resolution.checkpoints import Checkpoint, locate_checkpoint
from archit.resolution.families import Family, ModelArchitectures

__all__ = [
    "ARCHIT_MODEL_TYPE",
    "get_tokenizer_class",
    "is_text_model_type",
    "map_tokenizer",
    "resolve",
    "tokenizer_map",
]

ARCHIT_MODEL_TYPE = "archit"
"""``model_type`` of archit's own model-with-head config; its ``backbone_config`` is what gets resolved."""

# Generic tokenizer classes say nothing about the family behind them.
_GENERIC_TOKENIZERS = {"PreTrainedTokenizerFast", "TokenizersBackend", "PreTrainedTokenizer", "PythonBackend"}


def tokenizer_map() -> dict[str, str | None]:
    """The tokenizer class name of each registered family, by family name."""
    return {family.name: family.tokenizer_class for family in ModelArchitectures}


def map_tokenizer(family: Family | str, tokenizer_class: str) -> Family:
    """Give a registered family its tokenizer class (a name in the ``transformers`` namespace); returns the
    updated family, which replaces the registered one.

    Raises:
        UnknownArchitectureError: transformers has no tokenizer class of that name.
    """
    updated = dataclasses.replace(ModelArchitectures.get(family), tokenizer_class=tokenizer_class)
    get_tokenizer_class(updated)
    return ModelArchitectures.register(updated, exist_ok=True)


def get_tokenizer_class(family: Family | str) -> type:
    """The transformers tokenizer class of a family (the fast one where transformers has both).

    Raises:
        UnknownArchitectureError: the family states no tokenizer, or transformers has no class of that name.
    """
    family = family if isinstance(family, Family) else ModelArchitectures.get(family)
    if family.tokenizer_class is None:
        raise UnknownArchitectureError(
            f"Family {family.name} states no tokenizer class; load the tokenizer with "
            "transformers.AutoTokenizer.from_pretrained(checkpoint) instead."
        )
    klass = getattr(transformers, family.tokenizer_class + "Fast", None) or getattr(
        transformers, family.tokenizer_class, None
    )
    if klass is None:
        raise UnknownArchitectureError(
            f"Family {family.name} names tokenizer class {family.tokenizer_class!r}, which transformers "
            f"{transformers.__version__} does not have; register the family again with an existing class."
        )
    return klass


def _family_of_model_type(model_type: str, has_text_embeddings: bool = False, remote_model: bool = False) -> Family:
    family = ModelArchitectures.for_model_type(model_type)
    if family is not None:
        return family
    # a checkpoint's own model code (auto_map) is served by the generic family: its class is the backbone
    if has_text_embeddings or is_text_model_type(model_type) or remote_model:
        return ModelArchitectures.GENERIC
    known = is_known_model_type(model_type)
    raise UnknownArchitectureError(
        f"Model type {model_type!r} "
        + ("produces no text hidden states" if known else "is known neither to archit nor to transformers")
        + f". archit serves text backbones; registered families: {', '.join(ModelArchitectures.list())}. "
        "To add one, register it with archit.resolution.ModelArchitectures.register(Family(...)) "
        "(see guides/adding_a_model.md)."
    )


def _resolve_config_dict(config: dict[str, Any], origin: str) -> Family:
    if config.get("model_type") == ARCHIT_MODEL_TYPE:
        config = config.get("backbone_config") or {}
    model_type = config.get("model_type")
    if not model_type:
        raise CheckpointError(f"{origin} has no 'model_type'; re-save it with a current transformers release.")
    return _family_of_model_type(model_type, remote_model=_has_remote_model(config))


def _resolve_config(config: PretrainedConfig) -> Family:
    if config.model_type == ARCHIT_MODEL_TYPE:
        config = config.backbone_config
    return _family_of_model_type(config.model_type, remote_model=_has_remote_model(vars(config)))


def _has_remote_model(config: dict[str, Any]) -> bool:
    """Whether a config (``config.json``'s content, or a config's attributes) names its own ``AutoModel`` code."""
    return "AutoModel" in (config.get("auto_map") or {})


def _resolve_tokenizer(tokenizer: PreTrainedTokenizerBase) -> Family:
    path = getattr(tokenizer, "name_or_path", "")
    if path and os.path.isfile(os.path.join(path, "config.json")):
        return _resolve_config_dict(locate_checkpoint(path, weights=False).config_dict(), path)
    class_names = {klass.__name__.removesuffix("Fast") for klass in type(tokenizer).__mro__}
    class_names -= _GENERIC_TOKENIZERS
    for family in ModelArchitectures:
        if family.tokenizer_class in class_names:
            return family
    raise UnknownArchitectureError(
        f"Tokenizer class {type(tokenizer).__name__} does not identify a family (it is generic or unregistered), "
        f"and its name_or_path {path!r} holds no config.json. Pass the model, its config or its checkpoint "
        "directory to resolve() instead."
    )


def resolve(obj: Any, **hub_options: Any) -> Family:
    """The family of ``obj``.

    Args:
        obj: a :class:`Family` or family name (``"BERT"``), a model type (``"bert"``), a local checkpoint
            directory, a Hugging Face Hub id with its organisation (``"microsoft/deberta-v2-xlarge"``: only its
            config is read, from the cache or downloaded), a located
            :class:`~archit.resolution.checkpoints.Checkpoint`, a config, a model instance (wrapped or not), or
            a tokenizer (slow or fast).
        **hub_options: for a hub id, ``revision``, ``cache_dir``, ``token``, ``local_files_only`` and
            ``subfolder``, as in transformers' ``from_pretrained``.

    Returns:
        The registered family; :attr:`ModelArchitectures.GENERIC` for an unregistered model type whose
        models return text hidden states.

    Raises:
        UnknownArchitectureError: nothing identifies a text family; the message lists the registered ones.
        CheckpointError: a checkpoint directory has no readable ``config.json``; a hub id is not cached while
            offline (see :func:`~archit.resolution.checkpoints.locate_checkpoint`).
    """
    if isinstance(obj, Family):
        return obj
    # Model types never hold a "/", hub ids with their organisation always do.
    if isinstance(obj, os.PathLike) or (isinstance(obj, str) and (os.path.isdir(obj) or "/" in obj)):
        obj = locate_checkpoint(obj, weights=False, **hub_options)
    if isinstance(obj, Checkpoint):
        return _resolve_config_dict(obj.config_dict(), obj.name_or_path)
    if isinstance(obj, str):
        if obj in ModelArchitectures:
            return ModelArchitectures.get(obj)
        try:
            return _family_of_model_type(obj)
        except UnknownArchitectureError as error:
            if is_known_model_type(obj):
                raise
            raise UnknownArchitectureError(
                f"{error} A checkpoint is named by its directory, or by its hub id with the organisation "
                "('FacebookAI/roberta-base', not 'roberta-base')."
            ) from None
    if isinstance(obj, PretrainedConfig):
        return _resolve_config(obj)
    if isinstance(obj, PreTrainedTokenizerBase):
        return _resolve_tokenizer(obj)
    config = getattr(obj, "config", None)
    if isinstance(config, PretrainedConfig):
        if config.model_type == ARCHIT_MODEL_TYPE:
            return _resolve_config(config)
        try:
            embeddings = obj.get_input_embeddings()
        except (AttributeError, NotImplementedError):
            embeddings = None
        return _family_of_model_type(config.model_type, has_text_embeddings=embeddings is not None)
    raise UnknownArchitectureError(
        f"Cannot resolve a family from a {type(obj).__name__}. Pass a model type string, a config, a local "
        "checkpoint directory or hub id, a model instance or a tokenizer."
    )
