"""Parameter-efficient fine-tuning (LoRA and the other PEFT methods) of archit models.

:func:`wrap_with_peft` wraps a model-with-head's backbone with a PEFT method and keeps its task head fully
trainable (PEFT's ``modules_to_save``). The layers it adapts are PEFT's own default for the backbone's model type
where PEFT has one (``query`` and ``value`` for BERT, ``c_attn`` for GPT-2...), else every linear layer of the
backbone; it logs which it chose. A run saves the adapter with the trained head (and the model's config) in
``model/adapter/``, and in ``model/`` the merged model or, without ``merge_adapter``, the config alone; either
loads like any archit model (Auto classes, archit's task classes, ``archit predict``), the second as the base
checkpoint with the adapter attached (:mod:`archit.modeling.tasks.adapter_loading`). :func:`load_adapter` gives
PEFT's own ``PeftModel`` on the base checkpoint, merged or not.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from torch import nn

from archit.errors import ArchitError, CheckpointError
from archit.modeling.tasks.adapter_loading import ADAPTER_CONFIG_NAME, ADAPTER_DIRECTORY

if TYPE_CHECKING:
    from peft import PeftConfig, PeftModel

    from archit.modeling.tasks import ModelWithHead

__all__ = [
    "ADAPTER_DIRECTORY",
    "HEAD_MODULE",
    "PeftSetupError",
    "adapted_modules",
    "adapter_directory",
    "default_target_modules",
    "head_modules",
    "load_adapter",
    "wrap_with_peft",
]

logger = logging.getLogger("archit")


HEAD_MODULE = "head"
"""The name of every archit task's head module: PEFT trains its sub-modules fully and saves them with the adapter."""


class PeftSetupError(ArchitError, ValueError):
    """Raised when PEFT is not installed, the PEFT method is unknown or takes no target modules, or its options
    are not fields of its config; the message names the valid choices."""


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise PeftSetupError(
            "Parameter-efficient fine-tuning needs the peft package, which is not installed: "
            "pip install 'archit[train]'."
        ) from None
    return peft


def _config_class(method: str) -> type[PeftConfig]:
    """The PEFT config class of a method name (``lora``, ``loha``, ``ia3``...), case-insensitive.

    Raises:
        PeftSetupError: PEFT has no such method, or the method adapts no named modules.
    """
    peft = _peft()
    known = {peft_type.value.lower(): peft_type for peft_type in peft.PeftType}
    peft_type = known.get(method.lower())
    config_class = peft.PEFT_TYPE_TO_CONFIG_MAPPING.get(peft_type) if peft_type is not None else None
    usable = sorted(
        name
        for name, member in known.items()
        if "target_modules" in getattr(peft.PEFT_TYPE_TO_CONFIG_MAPPING.get(member), "__dataclass_fields__", {})
    )
    if config_class is None or "target_modules" not in config_class.__dataclass_fields__:
        raise PeftSetupError(
            f"Unknown PEFT method {method!r} for archit runs; methods that adapt layers: {', '.join(usable)}."
        )
    return config_class


def _default_mapping(method: str) -> Mapping[str, list[str]]:
    """PEFT's per-model-type default target modules of a method (empty when it keeps none)."""
    from peft.utils import constants

    name = f"TRANSFORMERS_MODELS_TO_{method.upper()}_TARGET_MODULES_MAPPING"
    return getattr(constants, name, {})


def _linear_names(module: nn.Module) -> list[str]:
    """The distinct last names of the linear layers (``nn.Linear``, GPT-2's ``Conv1D``) in ``module``."""
    from transformers.pytorch_utils import Conv1D

    names = {name.rsplit(".", 1)[-1] for name, sub in module.named_modules() if isinstance(sub, (nn.Linear, Conv1D))}
    return sorted(names)


def default_target_modules(model: ModelWithHead, method: str = "lora") -> tuple[list[str], str]:
    """The layers a PEFT method adapts in a model's backbone when the user names none.

    Args:
        model: an archit model-with-head.
        method: the PEFT method.

    Returns:
        The module names (last name components) and where they come from, for the log.

    Raises:
        PeftSetupError: the backbone has no linear layer to adapt.
    """
    model_type = model.config.backbone_config.model_type
    defaults = _default_mapping(method).get(model_type)
    if defaults:
        return list(defaults), f"PEFT's default for {model_type}"
    names = _linear_names(model.backbone)
    if not names:
        raise PeftSetupError(
            f"The {model_type} backbone has no linear layer for {method} to adapt; name the modules with "
            "peft_options target_modules=[...]."
        )
    return names, f"every linear layer of the {model_type} backbone (PEFT has no default for it)"


def _backbone_pattern(model: ModelWithHead, names: list[str]) -> str:
    """A regular expression matching the modules of those names inside the backbone only (never the head)."""
    return rf"{re.escape(model.base_model_prefix)}\..*\.({'|'.join(map(re.escape, names))})"


def head_modules(model: ModelWithHead) -> list[str]:
    """The modules PEFT trains in full and saves (its ``modules_to_save``) so that the whole head trains: the head's
    sub-modules that hold parameters, by full name. Not the head itself: PEFT picks the modules whose names *end*
    with an entry, and ``head`` would also pick the parser's ``head.arc_head`` inside it, which PEFT cannot reload.

    Raises:
        PeftSetupError: the head holds a parameter of its own, outside any sub-module (PEFT could not save it).
    """
    own = [name for name, _ in getattr(model, HEAD_MODULE).named_parameters(recurse=False)]
    if own:
        raise PeftSetupError(
            f"The {type(model).__name__} head holds parameters outside its sub-modules ({', '.join(own)}), which "
            "PEFT's modules_to_save cannot train and save; move each into a sub-module of the head."
        )
    children = getattr(model, HEAD_MODULE).named_children()
    return [f"{HEAD_MODULE}.{name}" for name, child in children if any(True for _ in child.parameters())]


def wrap_with_peft(model: ModelWithHead, method: str, options: Mapping[str, Any] | None = None) -> PeftModel:
    """Wrap the backbone of an archit model with a PEFT method; the task head stays fully trainable.

    Args:
        model: an archit model-with-head.
        method: the PEFT method (``"lora"``, ``"loha"``, ``"ia3"``...).
        options: fields of the method's PEFT config (``{"r": 16, "lora_alpha": 32}``). Without
            ``target_modules``, :func:`default_target_modules` chooses them within the backbone.

    Returns:
        The ``PeftModel``; its ``targeted_module_names`` lists what was adapted.

    Raises:
        PeftSetupError: see :func:`_config_class`; an option that is not a field of the method's config.
    """
    peft = _peft()
    if isinstance(model, peft.PeftModel):
        return model  # wrapping twice would adapt the adapter's own layers
    config_class = _config_class(method)
    options = dict(options or {})
    fields = sorted(name for name, field in config_class.__dataclass_fields__.items() if field.init)
    unknown = [key for key in options if key not in fields]
    if unknown:
        raise PeftSetupError(f"{config_class.__name__} has no field {unknown[0]!r}; its fields: {', '.join(fields)}.")
    if options.get("target_modules") is None:
        names, origin = default_target_modules(model, method)
        options["target_modules"] = _backbone_pattern(model, names)
    else:
        names, origin = options["target_modules"], "peft_options"
    options["modules_to_save"] = [*(options.get("modules_to_save") or []), *head_modules(model)]
    wrapped = peft.get_peft_model(model, config_class(**options))
    targeted = wrapped.base_model.targeted_module_names
    trainable, total = wrapped.get_nb_trainable_parameters()
    logger.warning(
        "%s adapts %s (%s): %d modules; %d of %d parameters train (the head in full).",
        method,
        ", ".join(names) if isinstance(names, list) else names,
        origin,
        len(targeted),
        trainable,
        total,
    )
    return wrapped


def adapted_modules(wrapped: PeftModel) -> str:
    """The layers a PEFT model adapts, by last name, and their count: ``"query, value (4 modules)"``."""
    targeted = wrapped.base_model.targeted_module_names
    names = sorted({name.rsplit(".", 1)[-1] for name in targeted})
    return f"{', '.join(names)} ({len(targeted)} modules)"


def adapter_directory(model_dir: str) -> str:
    """Where a PEFT run saved its adapter: ``model_dir`` itself (``merge_adapter`` off) or its ``adapter/``.

    Raises:
        CheckpointError: neither holds an adapter (``adapter_config.json``).
    """
    for directory in (model_dir, os.path.join(model_dir, ADAPTER_DIRECTORY)):
        if os.path.isfile(os.path.join(directory, ADAPTER_CONFIG_NAME)):
            return directory
    raise CheckpointError(
        f"{model_dir} holds no PEFT adapter ({ADAPTER_CONFIG_NAME}, nor {ADAPTER_DIRECTORY}/{ADAPTER_CONFIG_NAME}); "
        "it was not trained with peft. Load it with the Auto classes or ArchitFactory.from_pretrained."
    )


def load_adapter(model_dir: str, merge: bool = False) -> PeftModel | ModelWithHead:
    """A PEFT run's model rebuilt from its base checkpoint and its adapter (with the trained head), as PEFT's own
    ``PeftModel``.

    Args:
        model_dir: the ``model/`` directory of a run trained with ``peft`` (the adapter is in it, or in its
            ``adapter/``), or an adapter directory.
        merge: merge the adapter into the backbone's weights and return a plain archit model.

    Returns:
        The ``PeftModel`` in evaluation mode, or the merged model when ``merge``.

    Raises:
        CheckpointError: ``model_dir`` holds no adapter.
    """
    peft = _peft()
    from transformers import AutoConfig

    from archit.modeling.factory import ArchitFactory

    adapter_dir = adapter_directory(model_dir)
    config = AutoConfig.from_pretrained(
        adapter_dir if os.path.isfile(os.path.join(adapter_dir, "config.json")) else model_dir
    )
    base = peft.PeftConfig.from_pretrained(adapter_dir).base_model_name_or_path
    head = config.get_head_config()
    head_fields = {name: getattr(head, name) for name in type(head).field_names()}
    labels = {"id2label": config.id2label, "label2id": config.label2id}
    model = ArchitFactory.from_pretrained(base, task=config.task, **head_fields, **labels)
    adapted = peft.PeftModel.from_pretrained(model, adapter_dir).eval()
    return adapted.merge_and_unload() if merge else adapted
