"""``ModelWithHead``: the ``PreTrainedModel`` every task derives from, and how checkpoints load into it.

One checkpoint layout, transformers' own: the backbone sits under its family's ``base_model_prefix``
(``bert.``, ``roberta.``, ``transformer.``...) and the head under ``head.``. A task class is specialised per
backbone class (cached), because ``base_model_prefix`` is a class attribute that transformers' loader reads.
With that naming, transformers' public ``from_pretrained`` maps a bare backbone checkpoint, an HF ``XForY``
checkpoint (through ``key_mapping`` for heads the family's checkpoints hold) and an archit checkpoint alike.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

from archit._compat import (
    LOADING_LOGGERS,
    init_weights_like,
    mismatched_key_names,
    set_attention_implementation,
    tied_weights_keys,
)
from archit.errors import CheckpointError, HeadConfigError
from archit.modeling.base_models import BaseModel, backbone_class
from archit.modeling.heads.base import HeadConfig, init_linear
from archit.modeling.heads.language_modeling import INPUT_EMBEDDINGS, HeadSpec
from archit.modeling.tasks.configuration import ArchitConfig
from archit.modeling.tasks.losses import count_labelled
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput, wrap
from archit.resolution import Family, resolve
from archit.resolution.checkpoints import locate_checkpoint, location_options

__all__ = ["LoadingReport", "ModelWithHead"]

logger = logging.getLogger("archit")

_LABEL_MAPS = ("id2label", "label2id")

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


@dataclass
class LoadingReport:
    """What ``from_pretrained`` loaded, and what it did not.

    Attributes:
        checkpoint: the directory or hub id loaded from.
        loaded: model weights filled from the checkpoint.
        new: model weights the checkpoint did not hold, randomly initialised (tied copies excluded).
        unused: checkpoint weights the model has no place for (another head, a decoder...).
        mismatched: ``(name, checkpoint shape, model shape)`` of weights re-initialised for their shape.
    """

    checkpoint: str
    loaded: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)

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


def _abbreviate(names: list[str], shown: int = 4) -> str:
    names = sorted(names)
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


class ModelWithHead(PreTrainedModel):
    """A wrapped backbone plus a head: the base class of every archit task.

    Subclasses set :attr:`task_name`, :attr:`head_config_class` and implement :meth:`build_head` and
    ``forward``. Construct with ``Task.fromModelAndHeadConfig(backbone, head_config)``,
    ``Task.from_config(config)`` or ``Task.from_pretrained(checkpoint)``.
    """

    config_class = ArchitConfig
    base_model_prefix = "backbone"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    # Whether forward takes num_items_in_batch and divides its summed loss by it (archit.modeling.tasks.losses),
    # for transformers' Trainer; set for each task class by __init_subclass__.
    accepts_loss_kwargs: ClassVar[bool] = False

    task_name: ClassVar[str] = ""
    head_config_class: ClassVar[type[HeadConfig]] = HeadConfig
    _archit_backbone_class: ClassVar[type | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A forward without num_items_in_batch returns a mean per batch, which the Trainer must then divide by
        # the accumulation steps itself (it does when the model does not accept loss kwargs).
        if "accepts_loss_kwargs" not in cls.__dict__:
            cls.accepts_loss_kwargs = "num_items_in_batch" in inspect.signature(cls.forward).parameters

    def __new__(cls, config: ArchitConfig | None = None, *args: Any, **kwargs: Any) -> ModelWithHead:
        # Without a config (unpickling, copying) the class is already the specialised one.
        return super().__new__(cls if config is None else cls.specialised_for(config.backbone_config))

    def __reduce_ex__(self, protocol: int) -> tuple:
        # Rebuild the specialised class from its parts, so unpickling needs no earlier build in the new process.
        parts = (self._archit_original_class, self._archit_backbone_class)
        return _rebuild_specialised, parts, self.__getstate__()

    def __init__(self, config: ArchitConfig, backbone: ArchitWrapper | None = None) -> None:
        super().__init__(config)
        head_config = config.get_head_config()
        if not isinstance(head_config, self.head_config_class):
            raise HeadConfigError(
                f"{type(self).__name__} takes a {self.head_config_class.__name__}; got "
                f"{type(head_config).__name__}. Build one, e.g. {self.head_config_class.__name__}()."
            )
        if backbone is None:
            backbone = BaseModel(config.backbone_config, **self._backbone_kwargs(head_config))
        setattr(self, self.base_model_prefix, backbone)
        spec = self.build_head(backbone, head_config)
        self.head = spec.module
        self._tie_head(spec, backbone)
        self.post_init()

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def specialised_for(cls, backbone_config: PretrainedConfig) -> type[ModelWithHead]:
        """The subclass of this task for the backbone class ``backbone_config`` builds (cached)."""
        if cls._archit_backbone_class is not None:
            return cls
        family = resolve(backbone_config)
        return _specialised_class(cls, backbone_class(family, backbone_config))

    @classmethod
    def _backbone_kwargs(cls, head_config: HeadConfig) -> dict[str, Any]:
        # Like transformers' own XForY classes, leave out a pooler the head does not use.
        uses_pooler = getattr(head_config, "pooling", None) == "pooler"
        accepts = "add_pooling_layer" in inspect.signature(cls._archit_backbone_class.__init__).parameters
        return {"add_pooling_layer": False} if accepts and not uses_pooler else {}

    @classmethod
    def default_head_config(cls) -> HeadConfig:
        """The head config used when none is given and the checkpoint holds none for this task."""
        return cls.head_config_class()

    @property
    def backbone(self) -> ArchitWrapper:
        """The wrapped backbone (stored under the family's ``base_model_prefix``)."""
        return getattr(self, self.base_model_prefix)

    def build_head(self, backbone: ArchitWrapper, head_config: HeadConfig) -> HeadSpec:
        """Build the head for ``backbone``; subclasses return a :class:`HeadSpec`."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_head")

    @classmethod
    def fromModelAndHeadConfig(  # noqa: N802 (ArchIt's name)
        cls, backbone: nn.Module, head_config: HeadConfig | None = None
    ) -> ModelWithHead:
        """Put a new, randomly initialised head on an existing backbone (wrapped here if it is not yet)."""
        backbone = wrap(backbone)
        head_config = head_config if head_config is not None else cls.default_head_config()
        config = ArchitConfig(backbone.config, head_config, task=cls.task_name)
        return cls(config, backbone=backbone)

    @classmethod
    def from_config(
        cls, config: PretrainedConfig, head_config: HeadConfig | None = None, **label_maps: Any
    ) -> ModelWithHead:
        """A model with random weights, from an :class:`ArchitConfig` or from a backbone config.

        Args:
            config: an :class:`ArchitConfig`, or the backbone's config.
            head_config: the head (for a backbone config); the task's default when ``None``.
            **label_maps: ``id2label`` and ``label2id``, stored in the config for pipelines and predictions.

        Raises:
            HeadConfigError: a keyword argument other than the label maps.
        """
        unknown = sorted(set(label_maps) - set(_LABEL_MAPS))
        if unknown:
            raise HeadConfigError(
                f"{cls.__name__}.from_config takes head-config fields, id2label and label2id; got {', '.join(unknown)}."
            )
        if not isinstance(config, ArchitConfig):
            head_config = head_config if head_config is not None else cls.default_head_config()
            config = ArchitConfig(config, head_config, task=cls.task_name, **label_maps)
        else:
            for name, value in label_maps.items():
                setattr(config, name, value)
        return cls(config)

    # --- weights --------------------------------------------------------------------------------------------
    def _init_weights(self, module: nn.Module) -> None:
        # Backbone modules get the backbone's own initialisation (transformers dispatches sub-models);
        # this covers the head: linear layers as BERT does, archit's layers by their reset_parameters(), and
        # the family's own head modules (BERT's prediction bias...) by the backbone's _init_weights.
        if module is self:
            return
        if isinstance(module, (nn.Linear, nn.LayerNorm)):
            init_linear(module, std=getattr(self.config, "initializer_range", 0.02))
        elif hasattr(module, "reset_parameters") and not isinstance(module, PreTrainedModel):
            module.reset_parameters()
        elif next(module.parameters(recurse=False), None) is not None:
            init_weights_like(self.backbone, module)

    def _tie_head(self, spec: HeadSpec, backbone: ArchitWrapper) -> None:
        self._output_embedding_name = None
        if not spec.tied_weights:
            return
        embedding_name = _parameter_name(backbone, backbone.get_input_embeddings(), self.base_model_prefix)
        tied = {
            f"head.{target}": embedding_name if source == INPUT_EMBEDDINGS else f"head.{source}"
            for target, source in spec.tied_weights.items()
        }
        self._output_embedding_name = next((t for t, s in tied.items() if s == embedding_name), None)
        self._tied_weights_keys = tied_weights_keys(tied)

    def _replace_head(self) -> None:
        """Give the model a freshly initialised head and move the checkpoint's head weights to ``unused``."""
        previous = next(self.head.parameters(), None)
        spec = self.build_head(self.backbone, self.config.get_head_config())
        spec.module.apply(self._init_weights)
        if previous is not None:
            spec.module.to(device=previous.device, dtype=previous.dtype)
        self.head = spec.module
        self._tie_head(spec, self.backbone)
        self.tie_weights()
        report = self.loading_report
        from_head = [name for name in report.loaded if name.startswith("head.")]
        from_head += [name for name, _, _ in report.mismatched if name.startswith("head.")]
        report.unused = sorted({*report.unused, *from_head})
        report.loaded = [name for name in report.loaded if not name.startswith("head.")]
        report.mismatched = [entry for entry in report.mismatched if not entry[0].startswith("head.")]
        tied = set(getattr(self, "_tied_weights_keys", None) or ())
        report.new = sorted({*report.new, *(n for n in self.state_dict() if n.startswith("head.") and n not in tied)})

    def get_input_embeddings(self) -> nn.Module:
        return self.backbone.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.backbone.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module | None:
        if self._output_embedding_name is None:
            return None
        return self.get_submodule(self._output_embedding_name.rsplit(".", 1)[0])

    def encode(self, **inputs: Any) -> BackboneOutput:
        """The backbone's :meth:`~archit.modeling.ArchitWrapper.encode`."""
        return self.backbone.encode(**inputs)

    def count_loss_items(self, batch: Mapping[str, Any]) -> torch.Tensor | None:
        """The number of items the loss of ``batch`` averages over, as ``forward`` counts them: the sum of these
        over an accumulated batch (and every process) is the ``num_items_in_batch`` that makes the loss exact.

        By default the labels that are not ``-100``, as transformers' ``Trainer`` counts them; tasks whose loss
        counts other items override this.

        Returns:
            A 0-d integer tensor, or ``None`` when ``batch`` holds no labels.
        """
        labels = batch.get("labels")
        return None if labels is None else count_labelled(labels)

    # --- loading --------------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        base_model_class: type[BaseModel] | None = None,
        head_config: HeadConfig | None = None,
        *model_args: Any,
        **kwargs: Any,
    ) -> ModelWithHead:
        """Load a bare backbone, an HF ``XForY`` or an archit checkpoint into this task.

        Args:
            pretrained_model_name_or_path: a local directory written by ``save_pretrained``, or a Hugging Face
                Hub id (read from the cache, downloaded when missing unless offline).
            base_model_class: a ``<Family>BaseModel``, to insist on the checkpoint's family (optional).
            head_config: the head; optional for an archit checkpoint of this same task (its own is used).
                Otherwise the head is new, except language-modelling heads the family's checkpoints hold.
            **kwargs: passed to transformers' ``from_pretrained``: hub options (``revision``, ``cache_dir``,
                ``token``, ``local_files_only``, ``subfolder``) and loading options (``dtype``, ``device_map``,
                ``attn_implementation``, ``ignore_mismatched_sizes``...). ``trust_remote_code`` stays off
                unless given.

        Returns:
            The model, in eval mode as transformers leaves it, with ``loading_report`` (:class:`LoadingReport`).

        Raises:
            CheckpointError: missing directory, config or weights; a hub id that is not cached while offline
                (see :func:`~archit.resolution.checkpoints.locate_checkpoint`); an unreadable or truncated weights
                file.
            UnknownArchitectureError: the checkpoint's model type produces no text hidden states.
            HeadConfigError: the head config is of the wrong kind, or disagrees with the checkpoint's head
                (a different ``num_labels``) and ``ignore_mismatched_sizes`` is not set.
        """
        checkpoint = locate_checkpoint(pretrained_model_name_or_path, **location_options(kwargs))
        checkpoint_shapes = checkpoint.weight_shapes()
        path = checkpoint.name_or_path
        saved = kwargs.pop("config", None) or checkpoint.load_config(kwargs.get("trust_remote_code", False))
        is_archit = isinstance(saved, ArchitConfig)
        backbone_config = saved.backbone_config if is_archit else saved
        family = base_model_class.family(backbone_config) if base_model_class is not None else resolve(backbone_config)
        same_task = is_archit and saved.task == cls.task_name
        if head_config is None:
            head_config = saved.get_head_config() if same_task else cls.default_head_config()
        if not isinstance(head_config, cls.head_config_class):
            raise HeadConfigError(
                f"{cls.__name__} takes a {cls.head_config_class.__name__}; got {type(head_config).__name__}."
            )
        labels = {"id2label": saved.id2label, "label2id": saved.label2id} if same_task else {}
        labels.update({name: kwargs.pop(name) for name in _LABEL_MAPS if name in kwargs})
        config = ArchitConfig(backbone_config, head_config, task=cls.task_name, **labels)
        if "attn_implementation" in kwargs:
            set_attention_implementation(config.backbone_config, kwargs["attn_implementation"])
        key_mapping = cls._checkpoint_key_mapping(family, head_config, is_archit, same_task)
        ignore_mismatched_sizes = kwargs.pop("ignore_mismatched_sizes", False)
        specialised = cls.specialised_for(backbone_config)
        with _quiet_transformers_loading():
            model, info = super(ModelWithHead, specialised).from_pretrained(
                path,
                *model_args,
                config=config,
                key_mapping=key_mapping or None,
                output_loading_info=True,
                ignore_mismatched_sizes=True,
                **kwargs,
            )
        model.loading_report = _loading_report(model, path, info, checkpoint_shapes)
        if is_archit and not same_task:
            # Another task's head never lends its weights, even where names and shapes match.
            model._replace_head()
        _raise_on_mismatch(model.loading_report, head_config, ignore_mismatched_sizes)
        model.loading_report.log()
        return model

    @classmethod
    def _checkpoint_key_mapping(
        cls, family: Family, head_config: HeadConfig, is_archit: bool, same_task: bool
    ) -> dict[str, str]:
        if is_archit and not same_task:
            return {}
        # transformers 5 saves a head loaded through this mapping under its checkpoint name again, so an
        # archit checkpoint of the same task may hold it under either name.
        prefixes = cls.checkpoint_head_prefixes(family, head_config)
        if prefixes is None:
            return {}
        checkpoint_prefix, module_prefix = prefixes
        return {"^" + re.escape(checkpoint_prefix): "head." + module_prefix}

    @classmethod
    def checkpoint_head_prefixes(cls, family: Family, head_config: HeadConfig) -> tuple[str, str] | None:
        """Where HF ``XForY`` checkpoints of ``family`` keep this task's head, and where it goes in
        :attr:`head`; ``None`` (the default) when they hold no head archit reuses."""
        return None


def _specialised_class(task: type[ModelWithHead], hf_backbone: type) -> type[ModelWithHead]:
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
            "_archit_original_class": task,
            **{name: getattr(hf_backbone, name) for name in _BACKBONE_CAPABILITIES if hasattr(hf_backbone, name)},
        }
        # __name__ stays the task's, so config.json's "architectures" names the task class Auto classes know.
        specialised = type(task.__name__, (task,), namespace)
        setattr(module, attribute, specialised)
        _SPECIALISED[key] = specialised
    return specialised


_SPECIALISED: dict[tuple[type, type], type[ModelWithHead]] = {}


def _rebuild_specialised(task: type[ModelWithHead], hf_backbone: type) -> ModelWithHead:
    return object.__new__(_specialised_class(task, hf_backbone))


def _parameter_name(backbone: nn.Module, embeddings: nn.Module, prefix: str) -> str:
    for name, module in backbone.named_modules():
        if module is embeddings:
            return f"{prefix}.{name}.weight" if name else f"{prefix}.weight"
    raise CheckpointError(f"The input embeddings of {type(backbone).__name__} are not among its modules.")


class _quiet_transformers_loading:  # noqa: N801 (used like a function)
    """archit reports what was loaded itself (:class:`LoadingReport`), once; transformers' own load report is
    filtered out (with a filter: changing the loggers' levels would change what transformers does)."""

    names = LOADING_LOGGERS

    @staticmethod
    def filter(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    def __enter__(self) -> None:
        for name in self.names:
            logging.getLogger(name).addFilter(self.filter)

    def __exit__(self, *exc_info: Any) -> None:
        for name in self.names:
            logging.getLogger(name).removeFilter(self.filter)


def _loading_report(
    model: ModelWithHead, path: str, info: dict[str, Any], checkpoint_shapes: dict[str, tuple[int, ...]]
) -> LoadingReport:
    tied = set(getattr(model, "_tied_weights_keys", None) or ())
    state = model.state_dict()
    names = mismatched_key_names(info)
    mismatched = [(name, checkpoint_shapes.get(name, ()), tuple(state[name].shape)) for name in names]
    mismatched_names = {name for name, _, _ in mismatched}
    missing = set(info.get("missing_keys", [])) - tied
    unused = list(info.get("unexpected_keys", []))
    loaded = [name for name in state if name not in missing | mismatched_names | tied]
    return LoadingReport(path, loaded=loaded, new=sorted(missing), unused=sorted(unused), mismatched=mismatched)


def _raise_on_mismatch(report: LoadingReport, head_config: HeadConfig, ignore_mismatched_sizes: bool) -> None:
    if not report.mismatched or ignore_mismatched_sizes:
        return
    name, checkpoint_shape, model_shape = report.mismatched[0]
    if name.startswith("head."):
        raise HeadConfigError(
            f"The checkpoint's head weight {name} has shape {checkpoint_shape}, but {type(head_config).__name__} "
            f"({head_config}) builds {model_shape}. Use the checkpoint's num_labels, or pass "
            "ignore_mismatched_sizes=True to re-initialise the head."
        )
    raise CheckpointError(
        f"Backbone weight {name} has shape {checkpoint_shape} in {report.checkpoint} but {model_shape} in the model; "
        "the config does not describe these weights. Pass ignore_mismatched_sizes=True to re-initialise them."
    )
