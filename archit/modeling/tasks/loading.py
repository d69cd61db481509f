"""How a checkpoint's weights reach a model-with-head, and the report of what happened.

transformers' own ``from_pretrained`` does the loading; this module decides what it is asked and says what it
did. Before loading, an HF ``XForY`` checkpoint's head is paired weight by weight with archit's head for the
task: the class transformers' Auto table names for the task and model type is built on the meta device, and
its head weights (everything outside its backbone) are matched with archit's by module kind and shape. A full
match becomes a ``key_mapping`` (``classifier.out_proj.weight`` → ``head.out_proj.weight``). After loading, the
two heads are run on one short input with the same weights (the HF class around archit's own backbone): only
a head that gives the same outputs is kept; one that computes something else (another activation, another
pooling) is re-initialised and the report says why. The report itself is read from the loaded model: which
weights the checkpoint filled, which share a tensor (:func:`archit.modeling.ties.tied_pairs`), which are new.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import attrs
import torch
from torch import nn
from transformers import PretrainedConfig
from transformers.utils import logging as transformers_logging

from archit._compat import (
    KEY_MAPPING_RENAMES_BACKBONE_PREFIX,
    LOADING_LOGGERS,
    hf_task_class,
    is_loading_report_message,
    mismatched_keys,
    saved_names,
)
from archit.errors import ArchitError, CheckpointError, HeadConfigError
from archit.modeling.heads.base import HeadConfig
from archit.modeling.tasks.configuration import ArchitConfig
from archit.modeling.ties import leaders, tied_pairs
from archit.modeling.wrappers import wrap
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
]

logger = logging.getLogger("archit")


@dataclass
class LoadingReport:
    """What ``from_pretrained`` loaded, and what it did not, read from the model after loading.

    ``new == []`` holds exactly when no weight of the model is random.

    Attributes:
        checkpoint: the directory or hub id loaded from.
        loaded: model weights filled from the checkpoint (one name per tensor; see ``tied``).
        new: model weights the checkpoint did not fill, randomly initialised (those re-initialised for their
            shape included, see ``mismatched``).
        unused: checkpoint weights the model has no place for (another head, a decoder...), by checkpoint name.
        mismatched: ``(name, checkpoint shape, model shape)`` of weights re-initialised for their shape.
        tied: ``(name, leader)`` pairs of weights that are one tensor in the model: ``name`` holds the same
            tensor as ``leader``, which ``loaded`` or ``new`` lists.
        notes: what the lists alone do not say: a checkpoint head archit did not reuse, and why.
    """

    checkpoint: str
    loaded: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)
    tied: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def log(self) -> None:
        """One short line per group: loaded at INFO, the rest at WARNING."""
        logger.info("Loaded %d weights from %s.", len(self.loaded), self.checkpoint)
        if self.new:
            logger.warning("%d new weights, randomly initialised: %s", len(self.new), _abbreviate(self.new))
        if self.unused:
            logger.warning("%d checkpoint weights unused: %s", len(self.unused), _abbreviate(self.unused))
        if self.mismatched:
            names = [name for name, _, _ in self.mismatched]
            logger.warning("%d weights re-initialised for their shape: %s", len(names), _abbreviate(names))
        for note in self.notes:
            logger.warning(note)


def _abbreviate(names: list[str], shown: int = 4) -> str:
    names = sorted(names)
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


@dataclass
class LoadOutcome:
    """What one load did, in model names, from which :class:`LoadingReport` is computed (and recomputed when a
    head is replaced after loading).

    Attributes:
        supplied: model weights the checkpoint filled.
        mismatched: ``(name, checkpoint shape, model shape)`` of weights the checkpoint held in another shape.
        unused: checkpoint weights the model has no place for, by checkpoint name.
        checkpoint_names: the checkpoint name of each model weight loaded under another name.
        checkpoint_keys: the names the checkpoint's weights are stored under (``None`` where unread: ``.bin``).
        notes: see :attr:`LoadingReport.notes`.
    """

    supplied: set[str]
    mismatched: list[tuple[str, tuple, tuple]]
    unused: set[str]
    checkpoint_names: dict[str, str] = field(default_factory=dict)
    checkpoint_keys: set[str] | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_loading_info(
        cls,
        model: nn.Module,
        info: dict[str, Any],
        checkpoint_shapes: dict[str, tuple[int, ...]],
        checkpoint_names: dict[str, str],
    ) -> LoadOutcome:
        """Read transformers' ``output_loading_info`` (missing, unexpected and mismatched keys)."""
        mismatched = []
        for name, checkpoint_shape, model_shape in mismatched_keys(info):
            if checkpoint_shape is None:  # transformers 4 lists names only
                checkpoint_shape = _checkpoint_shape(name, checkpoint_names, checkpoint_shapes, model)
                model_shape = tuple(model.get_parameter(name).shape)
            mismatched.append((name, checkpoint_shape, model_shape))
        state = model.state_dict(keep_vars=True)
        missing = set(info.get("missing_keys", ()))
        supplied = set(state) - missing - {name for name, _, _ in mismatched}
        unused = set(info.get("unexpected_keys", ()))
        return cls(supplied, mismatched, unused, checkpoint_names, set(checkpoint_shapes) or None)

    def fills_head(self) -> bool:
        """Whether a head weight came from a checkpoint weight (not only through a tie to the embeddings)."""
        filled = {self.checkpoint_names.get(name, name) for name in self.supplied if name.startswith("head.")}
        return bool(filled if self.checkpoint_keys is None else filled & self.checkpoint_keys)

    def reaches_head(self) -> bool:
        """Whether a checkpoint weight filled a head weight, or was refused by one for its shape."""
        return self.fills_head() or any(name.startswith("head.") for name, _, _ in self.mismatched)

    def drop_head(self) -> None:
        """Forget what the checkpoint gave the head (it is being replaced): those checkpoint weights become
        unused."""
        from_head = {name for name in self.supplied if name.startswith("head.")}
        self.supplied -= from_head
        from_head |= {name for name, _, _ in self.mismatched if name.startswith("head.")}
        names = {self.checkpoint_names.get(name, name) for name in from_head}
        # a head weight tied to another (a decoder to the embeddings) was filled through the tie, not stored
        names = names if self.checkpoint_keys is None else names & self.checkpoint_keys
        self.mismatched = [entry for entry in self.mismatched if not entry[0].startswith("head.")]
        self.unused |= names

    def report(self, model: nn.Module, checkpoint: str) -> LoadingReport:
        """The :class:`LoadingReport` of ``model`` as it is now: one entry per tensor, ties by identity."""
        state = model.state_dict(keep_vars=True)
        leader_of = {name: name for name in state} | leaders(model)  # buffers lead themselves
        groups: dict[str, list[str]] = {}
        for name in state:
            groups.setdefault(leader_of[name], []).append(name)
        loaded, new = [], []
        for leader, members in groups.items():
            # a weight re-initialised for its shape was not supplied: it is new, and listed in mismatched too
            (loaded if any(member in self.supplied for member in members) else new).append(leader)
        return LoadingReport(
            checkpoint,
            loaded=loaded,
            new=sorted(new),
            unused=sorted(self.unused),
            mismatched=sorted(self.mismatched),
            tied=[pair for pair in tied_pairs(model) if pair[0] in state],
            notes=list(self.notes),
        )


def _checkpoint_shape(
    name: str, checkpoint_names: dict[str, str], checkpoint_shapes: dict[str, tuple[int, ...]], model: nn.Module
) -> tuple[int, ...] | None:
    """A mismatched weight's shape in the checkpoint, under its own name, its mapped name, or without the
    backbone prefix (a bare backbone checkpoint); ``None`` when the checkpoint's weights were not read."""
    prefix = getattr(model, "base_model_prefix", "") + "."
    for candidate in (checkpoint_names.get(name), name, name.removeprefix(prefix)):
        if candidate in checkpoint_shapes:
            return checkpoint_shapes[candidate]
    return None


# --- transformers' own log -----------------------------------------------------------------------------------
def _drop_key_lists(record: logging.LogRecord) -> bool:
    return not is_loading_report_message(record.getMessage())


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Drop transformers' missing / unexpected / mismatched key lists while loading, which the
    :class:`LoadingReport` states once; every other transformers message (``... will NOT tie them``, a corrupt
    checkpoint, offloading) passes. A filter, not a level: changing the loggers' levels would change what
    transformers does."""
    loggers = [logging.getLogger(name) for name in LOADING_LOGGERS]
    for each in loggers:
        each.addFilter(_drop_key_lists)
    try:
        yield
    finally:
        for each in loggers:
            each.removeFilter(_drop_key_lists)


@contextmanager
def _silent_transformers() -> Iterator[None]:
    """Silence transformers while archit builds HF classes on the meta device to compare heads (their
    constructors' advice, such as "add is_decoder=True", is about a model nobody asked for)."""
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)


# --- what to ask transformers -----------------------------------------------------------------------------------
_LABEL_MAPS = ("id2label", "label2id")


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
    config: ArchitConfig
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
    label_maps = {name: kwargs.pop(name) for name in _LABEL_MAPS if kwargs.get(name) is not None}
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
    plan = LoadingPlan(task.specialised_for(backbone_config), None, checkpoint_shapes=checkpoint.weight_shapes())
    if isinstance(saved, ArchitConfig) or checkpoint_config.get("model_type") == ARCHIT_MODEL_TYPE:
        archit_config = saved if isinstance(saved, ArchitConfig) else checkpoint.load_config(trust_remote_code)
        head, inherited = _archit_head(plan, archit_config, head_config, head_fields, given is not None)
    else:
        head, inherited = _hf_head(plan, backbone_config, checkpoint_config, head_config, head_fields, family)
    maps = _label_maps(head, label_maps, inherited)
    plan.config = ArchitConfig(backbone_config, head, task=task.task_name, **maps)
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
    num_labels = getattr(base, "num_labels", None)
    # num_labels= given to an Auto class lands on the config it loads, not on the head config inside it
    relabelled = num_labels is not None and archit_config.num_labels != num_labels
    if config_given and relabelled and head_config is None and "num_labels" not in head_fields:
        head_fields = {**head_fields, "num_labels": archit_config.num_labels}
    inherited = {name: getattr(archit_config, name) for name in _LABEL_MAPS}
    plan.head_from_checkpoint = True
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
            head = attrs.evolve(head, num_labels=base.num_labels)
        if matched.note is None:
            plan.match, plan.key_mapping, plan.head_from_checkpoint = matched, matched.key_mapping, True
        else:
            plan.notes.append(matched.note)
        return head, {name: getattr(backbone_config, name) for name in _LABEL_MAPS}
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
    if saved_as is None or saved_as == task._archit_backbone_class.__name__:
        return None
    hf_class = hf_task_class(task.hf_auto_class, backbone_config.model_type) if task.hf_auto_class else None
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


# --- pairing an HF XForY head with archit's --------------------------------------------------------------------
@dataclass(frozen=True)
class _HeadWeight:
    """One tensor of a head: its names (several where tied), what kind of weight it is, and its shape."""

    names: tuple[str, ...]
    kind: tuple[str, str]
    shape: tuple[int, ...]


def _head_weights(model: nn.Module, backbone_prefix: str) -> list[_HeadWeight]:
    """The tensors of ``model`` outside its backbone, in definition order; a tensor tied to the backbone (a
    decoder tied to the input embeddings) is one of them, under its head names only."""
    by_tensor: dict[int, list[str]] = {}
    tensors: dict[int, torch.Tensor] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        if not name.startswith(backbone_prefix + "."):
            by_tensor.setdefault(id(parameter), []).append(name)
            tensors[id(parameter)] = parameter
    weights = []
    for key, names in by_tensor.items():
        kinds = [_kind(model, name) for name in names]
        # a bias declared on a custom module and tied into an nn.Linear is the Linear's bias
        kind = next((kind for kind in kinds if kind[0].startswith("torch.nn.")), kinds[0])
        weights.append(_HeadWeight(tuple(names), kind, tuple(tensors[key].shape)))
    return weights


def _kind(model: nn.Module, name: str) -> tuple[str, str]:
    owner_name, _, local = name.rpartition(".")
    owner = model.get_submodule(owner_name) if owner_name else model
    owner_class = type(owner)
    return f"{owner_class.__module__}.{owner_class.__qualname__}", local


def _pair(archit: list[_HeadWeight], hf: list[_HeadWeight]) -> list[tuple[_HeadWeight, _HeadWeight]] | None:
    """Pair every archit head tensor with an HF head tensor of the same kind and shape, each HF tensor once, in
    definition order; ``None`` unless both sides are used up."""
    free = list(hf)
    pairs = []
    for weight in archit:
        match = next((other for other in free if other.kind == weight.kind and other.shape == weight.shape), None)
        if match is None:
            return None
        free.remove(match)
        pairs.append((weight, match))
    return pairs if not free else None


@dataclass
class HeadMatch:
    """An HF ``XForY`` checkpoint's head, and the archit head that takes its place.

    Attributes:
        hf_class: the transformers class the checkpoint was saved from.
        head_config: the archit head config to build: one whose head pairs with the checkpoint's, or (when none
            does) the first candidate the task accepts.
        key_mapping: checkpoint name patterns → model names, for ``from_pretrained(key_mapping=...)``; empty when
            the heads do not pair.
        pairs: ``(archit names, HF names)`` of each paired tensor.
        note: why the checkpoint's head is not reused, when the heads do not pair.
        checkpoint_names: the checkpoint name of each paired archit weight (its leader name).
        hf_model: ``hf_class`` built on the meta device, whose head :func:`confirm_same_outputs` runs.
    """

    hf_class: type
    head_config: HeadConfig
    key_mapping: dict[str, str] = field(default_factory=dict)
    pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    note: str | None = None
    checkpoint_names: dict[str, str] = field(default_factory=dict)
    hf_model: nn.Module | None = None


def match_hf_head(
    task: type[ModelWithHead],
    backbone_config: PretrainedConfig,
    checkpoint_config: dict[str, Any],
    candidates: list[HeadConfig],
) -> HeadMatch | None:
    """Pair the head of an HF ``XForY`` checkpoint with the first candidate archit head of the same structure.

    Args:
        task: the (specialised) task class being loaded.
        backbone_config: the checkpoint's config (the backbone's).
        checkpoint_config: the checkpoint's ``config.json`` content (its ``architectures``).
        candidates: head configs to try, in order of preference.

    Returns:
        The :class:`HeadMatch` (with a ``note`` when no candidate pairs); ``None`` when the checkpoint was not
        saved from the task's HF class (a bare backbone, another task's head).
    """
    hf_class = hf_task_class(task.hf_auto_class, backbone_config.model_type) if task.hf_auto_class else None
    if hf_class is None or hf_class.__name__ not in (checkpoint_config.get("architectures") or ()):
        return None
    with torch.device("meta"), _silent_transformers():
        hf_model = hf_class(copy.deepcopy(backbone_config))
        hf_weights = _head_weights(hf_model, hf_class.base_model_prefix)
        # archit's candidate heads are built on the HF model's own backbone, where it has one under its prefix
        hf_backbone = getattr(hf_model, hf_class.base_model_prefix, None)
        accepted: list[tuple[HeadConfig, list[_HeadWeight]]] = []
        for candidate in candidates:
            config = ArchitConfig(backbone_config, candidate, task=task.task_name)
            try:
                archit_model = task(config, backbone=wrap(hf_backbone) if hf_backbone is not None else None)
            except ArchitError:
                continue  # a candidate the task refuses (multiple choice with num_labels != 1)
            archit_weights = _head_weights(archit_model, archit_model.base_model_prefix)
            accepted.append((candidate, archit_weights))
            pairs = _pair(archit_weights, hf_weights)
            if pairs is not None:
                return _head_match(hf_model, candidate, pairs, archit_model.base_model_prefix)
    head_config, archit_weights = accepted[0] if accepted else (candidates[-1], [])
    return HeadMatch(hf_class, head_config, note=_structure_note(hf_class, hf_weights, task, archit_weights))


def _head_match(
    hf_model: nn.Module, head_config: HeadConfig, pairs: list[tuple[_HeadWeight, _HeadWeight]], prefix: str
) -> HeadMatch:
    hf_class = type(hf_model)
    if hf_class.base_model_prefix != prefix and not KEY_MAPPING_RENAMES_BACKBONE_PREFIX:
        note = (
            f"The checkpoint's {hf_class.__name__} keeps its backbone under {hf_class.base_model_prefix}., archit "
            f"under {prefix}., and this transformers release cannot load it under another name: neither its "
            "backbone nor its head is reused. transformers 5 loads both."
        )
        return HeadMatch(hf_class, head_config, note=note)
    stored = saved_names(hf_model)
    renamed = {}  # checkpoint name → model name, each HF name under the name it is saved as and its own
    for archit_weight, hf_weight in pairs:
        for name in hf_weight.names:
            renamed |= {stored.get(name, name): archit_weight.names[0], name: archit_weight.names[0]}
    key_mapping = _patterns(hf_model, renamed, stored)
    if hf_class.base_model_prefix != prefix:  # Llama's QA class keeps its backbone as transformer., not model.
        key_mapping[f"^{re.escape(hf_class.base_model_prefix)}\\."] = prefix + "."
    named_pairs = [(archit_weight.names, hf_weight.names) for archit_weight, hf_weight in pairs]
    checkpoint_names = {}
    for archit_weight, hf_weight in pairs:
        checkpoint_names[archit_weight.names[0]] = stored.get(hf_weight.names[0], hf_weight.names[0])
    return HeadMatch(
        hf_class, head_config, key_mapping, named_pairs, checkpoint_names=checkpoint_names, hf_model=hf_model
    )


def _patterns(hf_model: nn.Module, renamed: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """``key_mapping`` patterns for checkpoint names → model names: a module prefix where every weight of an HF
    leaf module goes to one archit module under its own local name (``^classifier\\.`` → ``head.out_proj.``),
    so that transformers' legacy renamings (``LayerNorm.gamma`` → ``.weight``) still apply after it; the exact
    name otherwise (ALBERT's ``predictions.bias``, tied into its decoder)."""
    leaves = {stored.get(name, name).rpartition(".")[0] for name, module in _leaf_parameters(hf_model)}
    targets: dict[str, set[str]] = {}
    for source, target in renamed.items():
        (source_owner, _, source_local), (target_owner, _, target_local) = (
            source.rpartition("."),
            target.rpartition("."),
        )
        if source_owner in leaves and source_local == target_local:
            targets.setdefault(source_owner, set()).add(target_owner)
    prefixes = {owner: next(iter(owners)) for owner, owners in targets.items() if len(owners) == 1}
    patterns = {f"^{re.escape(owner)}\\.": target + "." for owner, target in prefixes.items()}
    for source, target in renamed.items():
        if source.rpartition(".")[0] not in prefixes:
            patterns[f"^{re.escape(source)}$"] = target
    return patterns


def _leaf_parameters(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """``(parameter name, owner)`` of every parameter whose owner module has no submodules."""
    for module_name, module in model.named_modules(remove_duplicate=False):
        if next(module.children(), None) is None:
            for local, _ in module.named_parameters(recurse=False, remove_duplicate=False):
                yield (f"{module_name}.{local}" if module_name else local), module


def _structure_note(
    hf_class: type, hf_weights: list[_HeadWeight], task: type[ModelWithHead], archit_weights: list[_HeadWeight]
) -> str:
    def listed(weights: list[_HeadWeight], shown: int = 4) -> str:
        described = [f"{weight.names[0]} {list(weight.shape)}" for weight in weights]
        more = f" and {len(described) - shown} more" if len(described) > shown else ""
        return ", ".join(described[:shown]) + more if described else "nothing"

    return (
        f"The checkpoint's {hf_class.__name__} head is not reused: its weights ({listed(hf_weights)}) do not pair "
        f"one to one with those of archit's {task.head_config_class.__name__.removesuffix('Config')} "
        f"({listed(archit_weights)}), so the two compute different things. The head is new; fine-tune it."
    )


def head_config_variants(base: HeadConfig, checkpoint_num_labels: int | None) -> list[HeadConfig]:
    """``base`` with the checkpoint's ``num_labels`` first (where the head has the field), then ``base``."""
    variants = []
    if checkpoint_num_labels is not None and "num_labels" in base.field_names():
        variants.append(attrs.evolve(base, num_labels=checkpoint_num_labels))
    if base not in variants:
        variants.append(base)
    return variants


# --- confirming the pairing by running both heads ----------------------------------------------------------------
def confirm_same_outputs(model: ModelWithHead, match: HeadMatch) -> str | None:
    """Run ``model`` and ``match.hf_class`` (built around ``model``'s own backbone, its head sharing ``model``'s
    head tensors) on one short input.

    Returns:
        ``None`` when every output they share (``logits``, ``start_logits``, ``end_logits``) is the same;
        otherwise a note saying how they differ (or why they could not be compared).
    """
    hf_name = match.hf_class.__name__
    try:
        hf_model = _hf_model_around(model, match)
        inputs = model.probe_inputs()
        with torch.no_grad():
            ours, theirs = model(**inputs), hf_model(**inputs)
    except Exception as error:  # noqa: BLE001 (any failure means the heads could not be shown to agree)
        return (
            f"The checkpoint's {hf_name} head is not reused: it could not be run with archit's weights to confirm "
            f"it computes what archit's head does ({type(error).__name__}: {_first_line(error)}). The head is new."
        )
    compared = [name for name in ("logits", "start_logits", "end_logits") if ours.get(name) is not None]
    for name in compared:
        expected = theirs.get(name)
        if expected is None or expected.shape != ours[name].shape:
            return (
                f"The checkpoint's {hf_name} head is not reused: it gives no {name} of archit's shape. The head is new."
            )
        difference = (ours[name].float() - expected.float()).abs().max().item()
        if difference > _tolerance(ours[name]):
            return (
                f"The checkpoint's {hf_name} head is not reused: with the same weights it computes other {name} "
                f"than archit's {type(model.head).__name__} (largest difference {difference:.3g} on a test input: "
                "another activation, pooling or layer). The head is new; fine-tune it."
            )
    return None


def _tolerance(output: torch.Tensor) -> float:
    scale = max(1.0, output.float().abs().max().item())
    return scale * (1e-4 if output.dtype in (torch.float32, torch.float64) else 2e-2)


def _hf_model_around(model: ModelWithHead, match: HeadMatch) -> nn.Module:
    """``match.hf_model`` with ``model``'s backbone and head tensors, nothing of its own left on the meta device
    (its head modules run on ``model``'s tensors, whatever shape a resized head gave them)."""
    hf_model = match.hf_model
    setattr(hf_model, match.hf_class.base_model_prefix, model.backbone)
    for archit_names, hf_names in match.pairs:
        tensor = model.get_parameter(archit_names[0])
        for name in hf_names:
            owner_name, _, local = name.rpartition(".")
            setattr(hf_model.get_submodule(owner_name) if owner_name else hf_model, local, tensor)
    leftover = [name for name, tensor in [*hf_model.named_parameters(), *hf_model.named_buffers()] if tensor.is_meta]
    if any(not name.startswith(match.hf_class.base_model_prefix + ".") for name in leftover):
        raise CheckpointError(f"{match.hf_class.__name__} holds weights archit's head has no counterpart of")
    return hf_model.eval()


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else ""
