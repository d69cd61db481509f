"""``MultiTaskModel``: one wrapped backbone shared by several archit task heads.

Each head is the head its single-task model has, built by that task's own class: the multi-task model keeps one
single-task model per task (not registered as a submodule) whose backbone is the shared one and whose head is
the multi-task model's ``heads.<name>``. ``forward(task=NAME, **batch)`` runs that model, so the output is the
task's usual one; :meth:`MultiTaskModel.extract_task` returns it as an ordinary archit model that the Auto
classes load once saved; :meth:`MultiTaskModel.add_task` puts the head of a single-task model on the shared
backbone. The checkpoint keeps the backbone under ``backbone.`` and each head under ``heads.<name>.``;
``config.json`` holds the backbone config and, per task, its kind, head config and label maps.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

from archit._compat import tied_weights_keys
from archit.errors import HeadConfigError, MultiTaskError
from archit.modeling.base_models import BaseModel
from archit.modeling.factory import ArchitFactory
from archit.modeling.tasks import ArchitConfig, LoadingReport, ModelWithHead
from archit.modeling.tasks.configuration import LABEL_MAPS
from archit.modeling.wrappers import wrap

__all__ = ["MULTITASK_MODEL_TYPE", "MultiTaskConfig", "MultiTaskModel", "load_tasks", "task_options"]

MULTITASK_MODEL_TYPE = "archit_multitask"


class MultiTaskConfig(PretrainedConfig):
    """Config of a :class:`MultiTaskModel`, registered with ``AutoConfig`` as ``"archit_multitask"``.

    Attributes the config does not have are read from the backbone config (``hidden_size``...), as
    :class:`~archit.modeling.tasks.ArchitConfig` does.

    Args:
        backbone_config: the backbone's config, or its ``to_dict()``.
        tasks: ``[{"name": name, "task": kind, "head_config": HeadConfig.to_dict(), "id2label": {...}}]`` in head
            order (a list, since ``config.json`` sorts the keys of a mapping); ``id2label`` is optional.
        **kwargs: the usual ``PretrainedConfig`` arguments.
    """

    model_type = MULTITASK_MODEL_TYPE
    sub_configs = {"backbone_config": AutoConfig}

    def __init__(
        self,
        backbone_config: PretrainedConfig | dict[str, Any] | None = None,
        tasks: list[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        # ArchitConfig rebuilds a backbone config from its dict
        backbone = (
            ArchitConfig(backbone_config).backbone_config if isinstance(backbone_config, dict) else backbone_config
        )
        self.backbone_config = backbone
        self.tasks = [dict(entry) for entry in tasks or ()]
        attention = getattr(backbone, "_attn_implementation", None)
        super().__init__(**kwargs)
        if backbone is not None and attention is not None and kwargs.get("attn_implementation") is None:
            # transformers gives sub-configs the top config's attention (None here): keep the backbone's
            backbone._attn_implementation = attention

    @property
    def task_names(self) -> list[str]:
        """The tasks' names, in head order."""
        return [entry["name"] for entry in self.tasks]

    def task_config(self, name: str) -> ArchitConfig:
        """The :class:`ArchitConfig` of task ``name``'s single-task model (its head config and label maps).

        Raises:
            MultiTaskError: no task of that name.
        """
        entry = next((entry for entry in self.tasks if entry["name"] == name), None)
        if entry is None:
            raise MultiTaskError(
                f"No task {name!r} in this model; its tasks are {', '.join(self.task_names) or 'none'}."
            )
        id2label = entry.get("id2label")
        labels = {"id2label": {int(index): label for index, label in id2label.items()}} if id2label else {}
        return ArchitConfig(self.backbone_config, entry["head_config"], task=entry["task"], **labels)

    def __getattr__(self, name: str) -> Any:
        backbone = self.__dict__.get("backbone_config")
        if name.startswith("__") or backbone is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        return getattr(backbone, name)


class MultiTaskModel(PreTrainedModel):
    """Several archit task heads on one wrapped backbone; ``forward(task=NAME, **batch)`` runs one of them.

    Build with :meth:`from_single_task_models`, :func:`load_tasks` (``ArchitFactory.from_pretrained(path,
    tasks=...)``) or ``MultiTaskModel.from_pretrained(directory)`` for a saved multi-task model.

    Args:
        config: the :class:`MultiTaskConfig`.
        backbone: a backbone to share (wrapped here if it is not yet); by default one built from the config.

    Raises:
        MultiTaskError: the config names no task.
        HeadConfigError: a task's head config is not of its task's kind.
    """

    config_class = MultiTaskConfig
    base_model_prefix = "backbone"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    # forward divides each task's summed loss by that task's items (see count_loss_items)
    accepts_loss_kwargs: ClassVar[bool] = True
    loading_reports: dict[str, LoadingReport]  # each task's, on a model from load_tasks

    def __init__(self, config: MultiTaskConfig, backbone: nn.Module | None = None) -> None:
        super().__init__(config)
        if not config.tasks:
            raise MultiTaskError("A multi-task model needs at least one task; config.tasks is empty.")
        names = config.task_names
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise MultiTaskError(f"Two tasks are named {repeated[0]!r}; give each task its own name.")
        task_configs = {name: config.task_config(name) for name in names}
        if backbone is None:
            backbone = BaseModel(config.backbone_config, **_shared_backbone_kwargs(task_configs.values()))
        self.backbone = wrap(backbone)
        self.heads = nn.ModuleDict()
        self._task_models: dict[str, ModelWithHead] = {}
        for name, task_config in task_configs.items():
            self._attach(name, _task_class(task_config)(task_config, backbone=self.backbone))
        self.post_init()

    # --- tasks ----------------------------------------------------------------------------------------------
    @property
    def task_names(self) -> list[str]:
        """The tasks, in the order of their heads."""
        return list(self._task_models)

    def task_model(self, task: str) -> ModelWithHead:
        """The single-task model of ``task``: the shared backbone and that task's head (the same modules).

        Raises:
            MultiTaskError: no task of that name.
        """
        return self._named_task(task)[1]

    def _named_task(self, task: object) -> tuple[str, ModelWithHead]:
        """``(task, its single-task model)`` for a task name given in a batch or by a caller (``None``: none given).

        Raises:
            MultiTaskError: ``task`` is not the name of one of this model's tasks.
        """
        if not isinstance(task, str) or task not in self._task_models:
            raise MultiTaskError(
                f"Unknown task {task!r}: this model's tasks are {', '.join(self._task_models)}; pass one as task=."
            )
        model = self._task_models[task]
        model.training = self.training  # the task decides by its own mode whether to decode (parsing)
        return task, model

    def _attach(self, name: str, model: ModelWithHead) -> None:
        self.heads[name] = model.head
        self._task_models[name] = model
        self._tied_weights_keys = self._translated_ties()

    def _translated_ties(self) -> dict[str, str] | list[str]:
        """The heads' declared ties, in this model's names (``heads.<task>.`` and ``backbone.``)."""
        mapping: dict[str, str] = {}
        for name, model in self._task_models.items():
            declared = model._tied_weights_keys or {}
            pairs = declared.items() if isinstance(declared, Mapping) else ((target, "") for target in declared)
            for target, source in pairs:
                mapping[self._translated(name, model, target)] = self._translated(name, model, source)
        return tied_weights_keys(mapping)

    @staticmethod
    def _translated(task: str, model: ModelWithHead, key: str) -> str:
        if key.startswith("head."):
            return f"heads.{task}.{key.removeprefix('head.')}"
        return "backbone." + key.removeprefix(model.base_model_prefix + ".") if key else key

    def add_task(self, name: str, source: ModelWithHead | str | os.PathLike, **kwargs: Any) -> None:
        """Put the head of a single-task archit model (or checkpoint) on the shared backbone, as task ``name``.

        The head's weights and label maps are copied; the source's backbone is not used.

        Args:
            name: the new task's name.
            source: a single-task archit model, or the directory (or hub id) of a saved one.
            **kwargs: options for loading ``source`` from a path (``revision``...).

        Raises:
            MultiTaskError: ``name`` is taken, or ``source`` is not a single-task archit model.
            HeadConfigError: the head does not fit the shared backbone (another hidden size).
        """
        if name in self._task_models:
            raise MultiTaskError(
                f"This model already has a task named {name!r}; give the new task another name, or remove it first."
            )
        if not isinstance(source, ModelWithHead):
            config = AutoConfig.from_pretrained(source, **kwargs)
            if not isinstance(config, ArchitConfig):
                raise MultiTaskError(
                    f"{source} is a {type(config).__name__} checkpoint, not a single-task archit model; load it with "
                    f"ArchitFactory.from_pretrained(..., task=...) and save it first, or pass the model."
                )
            source = ArchitFactory.from_pretrained(source, task=config.task, **kwargs)
        task_config = copy.deepcopy(source.config)
        task_config.backbone_config = self.config.backbone_config
        model = _task_class(task_config)(task_config, backbone=self.backbone)
        try:
            model.head.load_state_dict(source.head.state_dict())
        except RuntimeError as error:
            raise HeadConfigError(
                f"The head of task {name!r} does not fit this model's backbone "
                f"({str(error).splitlines()[-1].strip()}); "
                "add a head trained on a backbone of the same sizes."
            ) from None
        model.head.to(device=self.device, dtype=next(self.backbone.parameters()).dtype)
        self._attach(name, model)
        self.config.tasks.append(_task_entry(name, source.config))
        self.tie_weights()

    def extract_task(self, task: str) -> ModelWithHead:
        """Task ``task`` as an ordinary single-task archit model: a copy of the shared backbone and that head,
        with the task's label maps. Saved, it loads with ``ArchitFactory`` and the Auto classes.

        Raises:
            MultiTaskError: no task of that name.
        """
        return copy.deepcopy(self.task_model(task))

    @classmethod
    def from_single_task_models(cls, models: Mapping[str, ModelWithHead]) -> MultiTaskModel:
        """A multi-task model on the backbone of the first model (shared, not copied), with a copy of each model's
        head and its label maps.

        Raises:
            MultiTaskError: no models, or one that is not a single-task archit model.
            HeadConfigError: a head that does not fit the first model's backbone.
        """
        if not models:
            raise MultiTaskError("from_single_task_models needs at least one {name: model}; got none.")
        for name, model in models.items():
            if not isinstance(model, ModelWithHead):
                raise MultiTaskError(f"Task {name!r} is a {type(model).__name__}, not a single-task archit model.")
        first_name, first = next(iter(models.items()))
        config = MultiTaskConfig(first.config.backbone_config, [_task_entry(first_name, first.config)])
        multitask = cls(config, backbone=first.backbone)
        multitask.heads[first_name].load_state_dict(first.head.state_dict())
        for name, model in list(models.items())[1:]:
            multitask.add_task(name, model)
        return multitask.train(first.training)

    # --- the model ------------------------------------------------------------------------------------------
    def _init_weights(self, module: nn.Module) -> None:
        # every head is initialised as its own task initialises it (all tasks initialise alike)
        if module is not self:
            next(iter(self._task_models.values()))._init_weights(module)

    def get_input_embeddings(self) -> nn.Module:
        return self.backbone.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.backbone.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module | None:
        # transformers 4 ties the output embeddings to the input embeddings: those of the first tied head
        for model in self._task_models.values():
            if model.get_output_embeddings() is not None:
                return model.get_output_embeddings()
        return None

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The loss items of ``batch`` (one task's, named by ``batch["task"]``), counted as that task counts them,
        at the task's index of a ``[n_tasks]`` vector: the sum of these over an accumulated batch (and every
        process) is the ``num_items_in_batch`` with which each task's loss is exact.

        Raises:
            MultiTaskError: the batch names no task of this model.
        """
        task, model = self._named_task(batch.get("task"))
        count = model.count_loss_items(batch)
        if count is None:
            return None
        counts = torch.zeros(len(self._task_models), dtype=torch.long, device=count.device)
        counts[self.task_names.index(task)] = count
        return counts

    def forward(
        self, task: str | None = None, num_items_in_batch: torch.Tensor | int | None = None, **batch: Any
    ) -> ModelOutput:
        """Run the shared backbone and ``task``'s head on ``batch``; the output is that task's usual output.

        Args:
            task: the task's name.
            num_items_in_batch: the items that the loss is divided by: a ``[n_tasks]`` vector of each task's items
                (from :meth:`count_loss_items`), of which this task's is used, or one number; ``None`` for the
                items of this batch.
            **batch: the task's inputs and labels, as its single-task model takes them.

        Raises:
            MultiTaskError: ``task`` is not one of this model's tasks.
        """
        task, model = self._named_task(task)
        if isinstance(num_items_in_batch, torch.Tensor) and num_items_in_batch.dim() > 0:
            # DataParallel hands each replica rows of [n_gpu, n_tasks]
            num_items_in_batch = num_items_in_batch.reshape(-1, len(self._task_models))[0, self.task_names.index(task)]
        if num_items_in_batch is not None and model.accepts_loss_kwargs:
            batch["num_items_in_batch"] = num_items_in_batch
        output: ModelOutput = model(**batch)
        return output


def _task_class(config: ArchitConfig) -> type[ModelWithHead]:
    if config.task is None:
        raise MultiTaskError("A task's config names no task (config.task is None); build it for one task.")
    return ArchitFactory.get_task(config.task).specialised_for(config.backbone_config)


def _shared_backbone_kwargs(task_configs: Any) -> dict[str, Any]:
    """The backbone options of the tasks' heads: no pooler unless some head reads it."""
    options = [_task_class(config)._backbone_kwargs(config.get_head_config()) for config in task_configs]
    return next((option for option in options if option.get("add_pooling_layer")), options[0])


def _task_entry(name: str, config: ArchitConfig) -> dict[str, Any]:
    """What :class:`MultiTaskConfig` keeps of a single-task model's config, as task ``name``."""
    if config.head_config is None:
        raise MultiTaskError(f"Task {name!r} has a config without a head_config; build it with a head config.")
    entry: dict[str, Any] = {"name": name, "task": config.task, "head_config": dict(config.head_config)}
    if getattr(config, "id2label", None):
        entry["id2label"] = {int(index): label for index, label in config.id2label.items()}
    return entry


def task_options(tasks: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Check the per-task options of a multi-task model: each names its kind (``"task"``) and only options of
    that kind's head (and ``id2label`` / ``label2id``).

    Args:
        tasks: ``{name: {"task": kind, **head_options}}``.

    Returns:
        ``{name: (kind, options)}`` with ``None`` options dropped.

    Raises:
        MultiTaskError: no tasks, a task without ``"task"``, or an option its kind's head does not have (the
            message says which kind it belongs to, if any).
        HeadConfigError: an unknown kind of task.
    """
    if not tasks:
        raise MultiTaskError('tasks is empty; give at least one {"name": {"task": "token_classification", ...}}.')
    checked = {}
    for name, spec in tasks.items():
        options = {key: value for key, value in dict(spec).items() if value is not None}
        kind = options.pop("task", None)
        if kind is None:
            raise MultiTaskError(
                f'Task {name!r} does not say its kind; add "task": one of {", ".join(ArchitFactory.tasks())}.'
            )
        fields = ArchitFactory.get_task(kind).head_config_class.field_names() | set(LABEL_MAPS)
        for key in options:
            if key not in fields:
                raise MultiTaskError(_misplaced_option(name, kind, key, tasks))
        checked[name] = (kind, options)
    return checked


def _misplaced_option(name: str, kind: str, key: str, tasks: Mapping[str, Mapping[str, Any]]) -> str:
    owners = [
        other for other in ArchitFactory.tasks() if key in ArchitFactory.get_task(other).head_config_class.field_names()
    ]
    fix = "drop it"
    siblings = [other for other, spec in tasks.items() if other != name and spec.get("task") in owners]
    if siblings:
        fix = f"move it to task {siblings[0]!r} or drop it"
    belongs = f"belongs to {', '.join(owners)} heads" if owners else "is no head option of any task"
    return f"Head option {key!r} of task {name!r} ({kind}) {belongs}; {fix}."


def load_tasks(
    name_or_path: str | os.PathLike, tasks: Mapping[str, Mapping[str, Any]], **kwargs: Any
) -> MultiTaskModel:
    """Load any checkpoint (bare backbone, HF ``XForY`` or archit) as a multi-task model, one head per task.

    Each task is loaded as its single-task model would be (``ArchitFactory.from_pretrained(name_or_path,
    task=kind, **options, **kwargs)``), so a head the checkpoint holds for a task is reused; the backbone of the
    first task (of the first whose head reads the backbone's pooler, if any) is shared. Each load reads the
    checkpoint once.

    Args:
        name_or_path: a checkpoint directory or hub id.
        tasks: ``{name: {"task": kind, **head_options}}``, e.g. ``{"pos": {"task": "token_classification",
            "num_labels": 17}}``; head options may include ``id2label``.
        **kwargs: options for every load (hub and ``from_pretrained`` options: ``revision``, ``dtype``...).

    Returns:
        The model, with ``loading_reports``: each task's :class:`LoadingReport`.

    Raises:
        MultiTaskError: see :func:`task_options`.
        HeadConfigError, CheckpointError, UnknownArchitectureError: as ``ArchitFactory.from_pretrained``.
    """
    checked = task_options(tasks)
    loaded = {
        name: ArchitFactory.from_pretrained(name_or_path, task=kind, **kwargs, **options)
        for name, (kind, options) in checked.items()
    }
    shared = _shared_backbone_kwargs(model.config for model in loaded.values())
    owner = next(
        model for model in loaded.values() if type(model)._backbone_kwargs(model.config.get_head_config()) == shared
    )
    config = MultiTaskConfig(owner.config.backbone_config, [_task_entry(name, m.config) for name, m in loaded.items()])
    model = MultiTaskModel(config, backbone=owner.backbone)
    for name, single in loaded.items():
        model.heads[name].load_state_dict(single.head.state_dict())
    model.tie_weights()
    model.loading_reports = {name: single.loading_report for name, single in loaded.items()}
    return model.train(owner.training)


AutoConfig.register(MULTITASK_MODEL_TYPE, MultiTaskConfig, exist_ok=True)
AutoModel.register(MultiTaskConfig, MultiTaskModel, exist_ok=True)
