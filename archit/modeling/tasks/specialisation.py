"""Task classes specialised per backbone class.

transformers' loader reads ``base_model_prefix`` from the class, so a task class gets one subclass per backbone
class (``ForSingleLabelTokenClassification`` on ``BertModel`` stores its backbone under ``bert.``). The
subclasses keep the task's ``__name__`` (so ``config.json`` names the task class the Auto classes know), are
attributes of this module, and pickle through :func:`rebuild_specialised`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from archit.modeling.tasks.base import ModelWithHead

__all__ = ["rebuild_specialised", "specialised_class"]

# Capabilities a specialised task class takes over from its backbone class.
_BACKBONE_CAPABILITIES = (
    "_supports_sdpa",
    "_supports_flash_attn",
    "_supports_flash_attn_2",
    "_supports_flex_attn",
    "_supports_attention_backend",
    "_no_split_modules",
    "_skip_keys_device_placement",
    "_can_compile_fullgraph",
)


def specialised_class(task: type[ModelWithHead], hf_backbone: type[PreTrainedModel]) -> type[ModelWithHead]:
    """The subclass of ``task`` for backbones of class ``hf_backbone`` (built once, then cached): its
    ``base_model_prefix`` and attention capabilities are the backbone class's."""
    key = (task, hf_backbone)
    specialised = _SPECIALISED.get(key)
    if specialised is None:
        module = sys.modules[__name__]
        attribute = f"{task.__name__}_{hf_backbone.__name__}"
        namespace = {
            "__module__": __name__,
            "__qualname__": attribute,
            "__doc__": task.__doc__,
            "base_model_prefix": hf_backbone.base_model_prefix or "backbone",
            "_archit_backbone_class": hf_backbone,
            # what code (the declaration compiler, users) should name: the task, which specialises itself
            "_archit_task_class": task,
            **{name: getattr(hf_backbone, name) for name in _BACKBONE_CAPABILITIES if hasattr(hf_backbone, name)},
        }
        # __name__ stays the task's, so config.json's "architectures" names the task class Auto classes know.
        specialised = type(task.__name__, (task,), namespace)
        setattr(module, attribute, specialised)
        _SPECIALISED[key] = specialised
    return specialised


_SPECIALISED: dict[tuple[type, type], type[ModelWithHead]] = {}


def rebuild_specialised(task: type[ModelWithHead], hf_backbone: type) -> ModelWithHead:
    """An empty instance of the specialised class, for unpickling (``ModelWithHead.__reduce_ex__``)."""
    return object.__new__(specialised_class(task, hf_backbone))
