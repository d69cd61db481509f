"""Everything a contributor needs to add a backbone family or a task to archit, from their own code.

A family (guides/adding_a_model.md):

1. :func:`register_backbone` registers the backbone with transformers' Auto classes and as an archit
   :class:`Family` (its model types, tokenizer and facts) in one call; :func:`adapt_module` does it for a plain
   PyTorch module.
2. :func:`register_wrapper` gives the family an :class:`ArchitWrapper` subclass for quirks its data cannot
   state (facts are properties declared with :class:`family_fact`).
3. :func:`register_head_factory` builds a family's own head (a :class:`HeadSpec`) where its checkpoints hold a
   pretrained one of another structure, and says where they keep it.

A task (guides/heads_and_tasks.md): a :class:`HeadConfig` subclass registered with
:func:`register_head_config` (validators :func:`positive_int`, :func:`probability`, :func:`one_of`), a head
module (built from the :class:`ArchitWrapper`, called with its :class:`BackboneOutput`), and a
:class:`ModelWithHead` subclass whose ``build_head`` returns a :class:`HeadSpec`, with its losses
built from :mod:`archit.modeling.tasks.losses` (:func:`check_labels`, :func:`mean_over_items`,
:data:`IGNORE_INDEX`), registered with :func:`register_task`.

The registries themselves (:data:`ModelArchitectures`, ``WRAPPERS``, ``HEAD_CONFIGS``, ``HEAD_FACTORIES``,
``TASKS``) are :class:`archit.registry.Registry` objects; their ``restoring()`` undoes registrations in tests.
"""

from archit.modeling.backbones import register_backbone
from archit.modeling.heads.base import (
    HEAD_CONFIGS,
    HeadConfig,
    HeadSpec,
    one_of,
    positive_int,
    probability,
    register_head_config,
)
from archit.modeling.native.adapter import adapt_module
from archit.modeling.tasks import ModelWithHead
from archit.modeling.tasks.language_modeling import (
    HEAD_FACTORIES,
    CausalLMHeadConfig,
    MaskedLMHeadConfig,
    register_head_factory,
)
from archit.modeling.tasks.losses import IGNORE_INDEX, check_labels, mean_over_items
from archit.modeling.tasks.registration import TASKS, register_task
from archit.modeling.ties import INPUT_EMBEDDINGS
from archit.modeling.wrappers import WRAPPERS, ArchitWrapper, BackboneOutput, family_fact, register_wrapper
from archit.resolution import Family, ModelArchitectures, map_tokenizer

__all__ = [
    "HEAD_CONFIGS",
    "HEAD_FACTORIES",
    "IGNORE_INDEX",
    "INPUT_EMBEDDINGS",
    "TASKS",
    "WRAPPERS",
    "ArchitWrapper",
    "BackboneOutput",
    "CausalLMHeadConfig",
    "Family",
    "HeadConfig",
    "HeadSpec",
    "MaskedLMHeadConfig",
    "ModelArchitectures",
    "ModelWithHead",
    "adapt_module",
    "check_labels",
    "family_fact",
    "map_tokenizer",
    "mean_over_items",
    "one_of",
    "positive_int",
    "probability",
    "register_backbone",
    "register_head_config",
    "register_head_factory",
    "register_task",
    "register_wrapper",
]
