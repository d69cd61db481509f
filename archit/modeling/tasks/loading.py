"""How a checkpoint's weights reach a model-with-head: what transformers' loader is asked, decided before loading.

transformers' own ``from_pretrained`` does the loading; this module decides what it is asked (the head, its
labels, the ``key_mapping``). An HF ``XForY`` checkpoint's head is paired with archit's in
:mod:`archit.modeling.tasks.hf_heads`; what the load did is reported by
:mod:`archit.modeling.tasks.loading_report`. This module re-exports the public names of both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import attrs
from transformers import PretrainedConfig

from archit.errors import HeadConfigError
from archit.modeling.heads.base import HeadConfig, evolve_by_name
from archit.modeling.tasks.configuration import LABEL_MAPS, ArchitConfig
from archit.modeling.tasks.hf_heads import HeadMatch, confirm_same_outputs, head_config_variants, match_hf_head
from archit.modeling.tasks.loading_report import LoadingReport, LoadOutcome, quiet_loading, raise_on_mismatch
from archit.resolution import ARCHIT_MODEL_TYPE, Family, resolve
from archit.resolution.checkpoints import Checkpoint

if TYPE_CHECKING:
    from archit.modeling.base_models import BaseModel
    from archit.modeling.tasks.base import ModelWithHead

__all__ = [
    "HeadMatch",
    "LoadOutcome",
    "LoadingPlan",
    "LoadingReport",
    "confirm_same_outputs",
    "match_hf_head",
    "plan_loading",
    "quiet_loading",
    "raise_on_mismatch",
]


@dataclass
class LoadingPlan:
    """What ``from_pretrained`` asks transformers' loader, decided before loading.

    Attributes:
        model_class: the task class specialised for the checkpoint's backbone class.
        config: the model's config: the backbone's, the head's, the task and the label maps.
        key_mapping: checkpoint name patterns → model names (an HF ``XForY`` head, a declared head prefix).
        checkpoint_shapes: the shapes of the checkpoint's weights, by checkpoint name (safetensors only).
        match: the HF ``XForY`` head paired with archit's, to be confirmed after loading.
        head_from_checkpoint: the checkpoint holds this task's head (an archit checkpoint of the task, an HF
            ``XForY`` head paired with archit's, a head prefix a family declares); otherwise a weight that reaches
            the head by the coincidence of its name (another task's archit head, ModernBERT's ``head.``) is not
            kept.
        notes: for :attr:`LoadingReport.notes`.
    """

    model_class: type[ModelWithHead]
    config: ArchitConfig = field(init=False)  # set once the head is decided
    key_mapping: dict[str, str] = field(default_factory=dict)
    checkpoint_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    match: HeadMatch | None = None
    head_from_checkpoint: bool = False
    notes: list[str] = field(default_factory=list)


def plan_loading(
    task: type[ModelWithHead],
    checkpoint: Checkpoint,
    base_model_class: type[BaseModel] | None,
    head_config: HeadConfig | None,
    kwargs: dict[str, Any],
) -> LoadingPlan:
    """Decide the head, its labels and the key mapping with which ``checkpoint`` loads into ``task``.

    Removes from ``kwargs`` what archit reads itself: head-config fields, label maps and ``config``.

    Raises:
        HeadConfigError: ``head_config`` is not the task's kind; label maps that do not fit the head.
        CheckpointError, UnknownArchitectureError: as :meth:`ModelWithHead.from_pretrained`.
    """
    head_fields = {name: kwargs.pop(name) for name in task.head_config_class.field_names() if name in kwargs}
    head_fields = {name: value for name, value in head_fields.items() if value is not None}
    label_maps = {name: kwargs.pop(name) for name in LABEL_MAPS if kwargs.get(name) is not None}
    if head_config is not None and not isinstance(head_config, task.head_config_class):
        raise HeadConfigError(
            f"{task.__name__} takes a {task.head_config_class.__name__}; got {type(head_config).__name__}."
        )
    checkpoint_config = checkpoint.config_dict()
    given = kwargs.pop("config", None)
    trust_remote_code = kwargs.get("trust_remote_code", False)
    saved = given if given is not None else checkpoint.load_config(trust_remote_code)
    backbone_config = saved.backbone_config if isinstance(saved, ArchitConfig) else saved
    family = base_model_class.family(backbone_config) if base_model_class is not None else resolve(backbone_config)
    plan = LoadingPlan(task.specialised_for(backbone_config), checkpoint_shapes=checkpoint.weight_shapes())
    if isinstance(saved, ArchitConfig) or checkpoint_config.get("model_type") == ARCHIT_MODEL_TYPE:
        archit_config = saved if isinstance(saved, ArchitConfig) else checkpoint.load_config(trust_remote_code)
        head, inherited = _archit_head(plan, archit_config, head_config, head_fields, given is not None)
    else:
        head, inherited = _hf_head(plan, backbone_config, checkpoint_config, head_config, head_fields, family)
    maps = _label_maps(head, label_maps, inherited)
    # the dtype the checkpoint was saved in: without it, transformers 5 (dtype="auto") takes the first floating
    # tensor's in the file, which is a head weight of another dtype where a head keeps one (xIELU's bfloat16)
    dtype = getattr(saved, "dtype", None)
    plan.config = ArchitConfig(backbone_config, head, task=task.task_name, dtype=dtype, **maps)
    return plan


def _archit_head(
    plan: LoadingPlan,
    archit_config: ArchitConfig,
    head_config: HeadConfig | None,
    head_fields: dict[str, Any],
    config_given: bool,
) -> tuple[HeadConfig, dict[str, Any]]:
    """The head of an archit checkpoint: its own for the same task, else the task's default (to be replaced
    after loading, so that another task's head never lends its weights even where names and shapes match)."""
    task = plan.model_class
    if archit_config.task != task.task_name:
        plan.notes.append(
            f"The checkpoint is an archit {archit_config.task} model: its head is not reused for {task.task_name} "
            "(another task's head never is). The head is new; fine-tune it."
        )
        return attrs.evolve(head_config or task.default_head_config(), **head_fields), {}
    base = head_config or archit_config.get_head_config()
    if base is None:
        raise HeadConfigError(
            f"The checkpoint's config is an archit {task.task_name} model's without a head_config; pass head_config="
            f"{task.head_config_class.__name__}(...) to from_pretrained."
        )
    num_labels = getattr(base, "num_labels", None)
    # num_labels= given to an Auto class lands on the config it loads, not on the head config inside it
    relabelled = num_labels is not None and archit_config.num_labels != num_labels
    if config_given and relabelled and head_config is None and "num_labels" not in head_fields:
        head_fields = {**head_fields, "num_labels": archit_config.num_labels}
    inherited = {name: getattr(archit_config, name) for name in LABEL_MAPS}
    plan.head_from_checkpoint = True
    for old, new in task.renamed_weights.items():
        if old in plan.checkpoint_shapes:
            plan.key_mapping[f"^{re.escape(old)}$"] = new
    return attrs.evolve(base, **head_fields), inherited


def _hf_head(
    plan: LoadingPlan,
    backbone_config: PretrainedConfig,
    checkpoint_config: dict[str, Any],
    head_config: HeadConfig | None,
    head_fields: dict[str, Any],
    family: Family,
) -> tuple[HeadConfig, dict[str, Any]]:
    """The head for an HF checkpoint: paired with its ``XForY`` head where it was saved from the task's HF
    class and the structures agree, else the given or default head (new)."""
    task = plan.model_class
    base = attrs.evolve(head_config or task.default_head_config(), **head_fields)
    free = set() if head_config is not None else base.field_names() - set(head_fields)
    checkpoint_labels = len(checkpoint_config.get("id2label") or {}) or checkpoint_config.get("num_labels")
    candidates = [
        variant
        for candidate in task.head_config_candidates(base, free)
        for variant in head_config_variants(candidate, checkpoint_labels)
    ]
    matched = match_hf_head(task, backbone_config, checkpoint_config, candidates)
    if matched is not None:
        # the checkpoint's classes (and their names) stay, whether or not its head can be reused
        head = matched.head_config
        if "num_labels" in base.field_names() and "num_labels" not in free:
            head = evolve_by_name(head, {"num_labels": attrs.asdict(base, recurse=False)["num_labels"]})
        if matched.note is None:
            plan.match, plan.key_mapping, plan.head_from_checkpoint = matched, matched.key_mapping, True
        else:
            plan.notes.append(matched.note)
        return head, {name: getattr(backbone_config, name) for name in LABEL_MAPS}
    note = _other_head_note(task, backbone_config, checkpoint_config)
    plan.notes += [note] if note else []
    prefixes = task.checkpoint_head_prefixes(family, base)
    if prefixes is not None:
        checkpoint_prefix, module_prefix = prefixes
        plan.key_mapping = {"^" + re.escape(checkpoint_prefix): "head." + module_prefix}
        plan.head_from_checkpoint = True
    return base, {}


def _other_head_note(
    task: type[ModelWithHead], backbone_config: PretrainedConfig, checkpoint_config: dict[str, Any]
) -> str | None:
    """A note for an HF checkpoint saved from a class with a head for another task."""
    saved_as = (checkpoint_config.get("architectures") or [None])[0]
    backbone_class = task._archit_backbone_class
    if saved_as is None or (backbone_class is not None and saved_as == backbone_class.__name__):
        return None
    hf_class = task.hf_head_class(backbone_config.model_type)
    expected = f" (transformers' class for it is {hf_class.__name__})" if hf_class is not None else ""
    return (
        f"The checkpoint was saved from {saved_as}: its head, if it has one, is not reused for {task.task_name}"
        f"{expected}. The head is new; fine-tune it."
    )


def _label_maps(head: HeadConfig, given: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """The label maps of the model: the caller's; else those the checkpoint had, where they name as many
    classes as the head has; else none, and the config numbers the classes (``LABEL_0``...).

    Raises:
        HeadConfigError: the caller's label maps do not name ``num_labels`` classes.
    """
    num_labels = getattr(head, "num_labels", None)
    if given:
        names = given.get("id2label") or {index: name for name, index in given["label2id"].items()}
        if num_labels is not None and len(names) != num_labels:
            raise HeadConfigError(
                f"id2label / label2id name {len(names)} classes, but the head has num_labels={num_labels}. "
                "Give one name per class, or the matching num_labels."
            )
        return {"id2label": names, "label2id": given.get("label2id")}
    if inherited.get("id2label") and (num_labels is None or len(inherited["id2label"]) == num_labels):
        return inherited
    return {}
