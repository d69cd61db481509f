"""``ModelWithHead``: the ``PreTrainedModel`` every task derives from, and how checkpoints load into it.

One checkpoint layout, transformers' own: the backbone sits under its family's ``base_model_prefix``
(``bert.``, ``roberta.``, ``transformer.``...) and the head under ``head.``. A task class is specialised per
backbone class (cached), because ``base_model_prefix`` is a class attribute that transformers' loader reads.
With that naming, transformers' public ``from_pretrained`` maps a bare backbone checkpoint, an HF ``XForY``
checkpoint (its head through ``key_mapping``, where it computes what archit's does) and an archit checkpoint
alike; :mod:`archit.modeling.tasks.loading` decides what it is asked, :mod:`archit.modeling.tasks.hf_heads`
pairs and confirms an ``XForY`` head, and :mod:`archit.modeling.tasks.loading_report` reports what it did.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any, ClassVar, SupportsIndex

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

from archit._compat import forget_key_mapping, hf_task_class, init_weights_like, set_attention_implementation
from archit.errors import HeadConfigError
from archit.modeling.base_models import BaseModel, backbone_class
from archit.modeling.heads.base import HeadConfig, HeadSpec, checked_head_config, init_linear
from archit.modeling.tasks.adapter_loading import find_adapter, load_with_adapter
from archit.modeling.tasks.configuration import LABEL_MAPS, ArchitConfig
from archit.modeling.tasks.embeddings import TokenEmbeddingsMixin
from archit.modeling.tasks.loading import (
    LoadingReport,
    LoadOutcome,
    confirm_same_outputs,
    plan_loading,
    quiet_loading,
    raise_on_mismatch,
)
from archit.modeling.tasks.losses import ItemCount, count_labelled
from archit.modeling.tasks.specialisation import rebuild_specialised, specialised_class
from archit.modeling.ties import declared_ties
from archit.modeling.wrappers import ArchitWrapper, BackboneOutput, wrap
from archit.resolution import Family, resolve
from archit.resolution.checkpoints import locate_checkpoint, location_options

__all__ = ["LoadingReport", "ModelWithHead"]


class ModelWithHead(TokenEmbeddingsMixin, PreTrainedModel):
    # Over 300 lines, a third of them docstrings: the PreTrainedModel API all tasks inherit, delegating to loading.py.
    """A wrapped backbone plus a head: the base class of every archit task.

    Subclasses set :attr:`task_name`, :attr:`head_config_class` and implement :meth:`build_head`, and either
    :meth:`loss` and :attr:`output_class` (for the shared :meth:`forward`) or their own ``forward`` (scoring through
    :meth:`encode_and_score`, which a task with other input shapes overrides). Construct with
    ``Task.fromModelAndHeadConfig(backbone, head_config)``,
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
    _archit_backbone_class: ClassVar[type[PreTrainedModel] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A forward without num_items_in_batch returns a mean per batch, which the Trainer must then divide by
        # the accumulation steps itself (it does when the model does not accept loss kwargs).
        if "accepts_loss_kwargs" not in cls.__dict__:
            cls.accepts_loss_kwargs = "num_items_in_batch" in inspect.signature(cls.forward).parameters

    def __new__(cls, config: ArchitConfig | None = None, *args: Any, **kwargs: Any) -> ModelWithHead:
        # Without a config (unpickling, copying) the class is already the specialised one.
        return super().__new__(cls if config is None else cls.specialised_for(config.backbone_config))

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple:
        # Rebuild the specialised class from its parts, so unpickling needs no earlier build in the new process.
        parts = (self._archit_task_class, self._archit_backbone_class)
        return rebuild_specialised, parts, self.__getstate__()

    def __init__(self, config: ArchitConfig, backbone: ArchitWrapper | None = None) -> None:
        super().__init__(config)
        head_config = checked_head_config(type(self).__name__, config.get_head_config(), self.head_config_class)
        if backbone is None:
            backbone = BaseModel(config.backbone_config, **self._backbone_kwargs(head_config))
        setattr(self, self.base_model_prefix, backbone)
        spec = self.build_head(backbone, head_config)
        self.head = spec.module
        self._tie_head(spec, backbone)
        self.post_init()
        # The loading report lists every weight a checkpoint lacks or holds in excess: the patterns a backbone
        # declares to quiet transformers' own report (T5's encoder ignores a checkpoint's decoder) hide nothing.
        self._keys_to_ignore_on_load_missing = self._keys_to_ignore_on_load_unexpected = None

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def specialised_for(cls, backbone_config: PretrainedConfig) -> type[ModelWithHead]:
        """The subclass of this task for the backbone class ``backbone_config`` builds (cached)."""
        if cls._archit_backbone_class is not None:
            return cls
        family = resolve(backbone_config)
        return specialised_class(cls, backbone_class(family, backbone_config))

    @classmethod
    def _backbone_kwargs(cls, head_config: HeadConfig) -> dict[str, Any]:
        # Like transformers' own XForY classes, leave out a pooler the head does not use, and ask for one it
        # does: some bare models build none by default (GTE, NomicBERT), where their sequence classifiers do.
        uses_pooler = getattr(head_config, "pooling", None) == "pooler"
        backbone_class = cls._archit_backbone_class
        accepts = (
            backbone_class is not None and "add_pooling_layer" in inspect.signature(backbone_class.__init__).parameters
        )
        return {"add_pooling_layer": uses_pooler} if accepts else {}

    @classmethod
    def default_head_config(cls) -> HeadConfig:
        """The head config used when none is given and the checkpoint holds none for this task."""
        return cls.head_config_class()

    @property
    def backbone(self) -> ArchitWrapper:
        """The wrapped backbone (stored under the family's ``base_model_prefix``)."""
        # read from the submodules: where the prefix is "backbone" itself (Mamba), getattr would find this property
        return self._modules[self.base_model_prefix]

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
        unknown = sorted(set(label_maps) - set(LABEL_MAPS))
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
    @classmethod
    def is_custom_code(cls) -> bool:
        """Whether transformers 5 treats the model as custom code when it initialises what a load did not fill:
        no. For custom code it skips every module whose own weights all loaded, assuming that such code writes
        weights past transformers' initialisation guards; that also skips a backbone that fills its layers'
        non-persistent buffers from its own level (Falcon-H1's ``mup_vector``, left as uninitialised memory).
        archit initialises through ``torch.nn.init`` and the backbone's own ``_init_weights``, which respect
        the guards. Pinned by the Falcon-H1 cells of ``benchmarks/coverage_matrix.py`` and
        ``tests/modeling/test_loading.py::test_a_reload_initialises_the_backbones_buffers``."""
        return False

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
        self._tied_weights_keys, self._output_embedding_name = declared_ties(
            spec.tied_weights, backbone, self.base_model_prefix
        )

    def _replace_head(self) -> None:
        """Give the model a freshly initialised head (of its config), tied as the config says."""
        previous = next(self.head.parameters(), None)
        spec = self.build_head(self.backbone, self.config.get_head_config())
        spec.module.apply(self._init_weights)
        if previous is not None:
            spec.module.to(device=previous.device, dtype=previous.dtype)
        self.head = spec.module
        self._tie_head(spec, self.backbone)
        self.tie_weights()

    def get_input_embeddings(self) -> nn.Module:
        return self.backbone.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.backbone.set_input_embeddings(value)

    def encode(self, **inputs: Any) -> BackboneOutput:
        """The backbone's :meth:`~archit.modeling.ArchitWrapper.encode`."""
        return self.backbone.encode(**inputs)

    # --- the forward pass ------------------------------------------------------------------------------------
    output_class: ClassVar[type[ModelOutput]] = ModelOutput
    """The ``ModelOutput`` the shared :meth:`forward` returns (``TokenClassifierOutput``...)."""

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, num_items_in_batch: ItemCount = None) -> torch.Tensor:
        """The task's loss for the shared :meth:`forward`; see :mod:`~archit.modeling.tasks.losses`."""
        raise NotImplementedError(f"{type(self).__name__} must implement loss, or its own forward")

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        num_items_in_batch: ItemCount = None,
        **kwargs: Any,
    ) -> ModelOutput:
        """The forward pass most tasks share: :meth:`encode_and_score`, with ``labels`` the task's :meth:`loss`
        (divided by ``num_items_in_batch`` when given), all in an :attr:`output_class`. A task with other labels
        or outputs (several logits, a cache) overrides it, still scoring through :meth:`encode_and_score`."""
        encoded, logits = self.encode_and_score(
            input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs
        )
        loss = None if labels is None else self.loss(logits, labels, num_items_in_batch)
        return self.output_class(loss=loss, logits=logits, hidden_states=encoded.hidden_states)

    def encode_and_score(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        output_hidden_states: bool = False,
        **kwargs: Any,
    ) -> tuple[BackboneOutput, Any]:
        """The first half of every ``forward``: the backbone's encoding of the inputs and the head's scores of it.

        Args:
            input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs: as
                :meth:`~archit.modeling.ArchitWrapper.encode` takes them.

        Returns:
            The :class:`~archit.modeling.wrappers.BackboneOutput` and what the head returns (``logits``, or a tuple
            such as ``(start_logits, end_logits)``). A task whose inputs have another shape (multiple choice)
            overrides this.
        """
        encoded = self.backbone.encode(input_ids, attention_mask, token_type_ids, output_hidden_states, **kwargs)
        return encoded, self.head(encoded, attention_mask)

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
    hf_auto_class: ClassVar[str | None] = None
    """The transformers Auto class the task belongs to (``"AutoModelForTokenClassification"``): the task's archit
    checkpoints load through it (:mod:`archit.modeling.factory` registers each task with its Auto class), and the
    heads of its ``XForY`` checkpoints are reused where they compute what archit's does (see
    :attr:`reuses_hf_heads`)."""

    reuses_hf_heads: ClassVar[bool] = True
    """Whether loading pairs the heads of :attr:`hf_auto_class`'s ``XForY`` checkpoints with this task's; false for
    a task whose head no ``XForY`` class has (extractive QA with answerability)."""

    @classmethod
    def hf_head_class(cls, model_type: str) -> type[PreTrainedModel] | None:
        """The transformers ``XForY`` class whose checkpoints' heads loading pairs with this task's, for
        ``model_type``; ``None`` where there is none."""
        return hf_task_class(cls.hf_auto_class, model_type) if cls.hf_auto_class and cls.reuses_hf_heads else None

    renamed_weights: ClassVar[dict[str, str]] = {}
    """Head weights this task's archit checkpoints stored under another name before (old name → today's name); they
    load under today's name (and are saved under it)."""

    hf_auto_default: ClassVar[bool] = False
    """Whether this task is the one its :attr:`hf_auto_class` loads an archit checkpoint of another task as (with a
    new head), where several tasks share that Auto class; exactly one of them sets it."""

    @classmethod
    def head_config_candidates(cls, head_config: HeadConfig, free: set[str]) -> list[HeadConfig]:
        """Head configs to pair with an HF ``XForY`` checkpoint's head, best first: ``head_config``, then variants
        that change only the fields in ``free`` (those the caller did not set), where a variant has another
        structure (BERT's sequence classifier reads the backbone's pooler)."""
        return [head_config]

    def probe_inputs(self) -> dict[str, torch.Tensor]:
        """One short input (``input_ids``, ``attention_mask``) on which loading runs this model and an HF
        ``XForY`` model with the same weights, to confirm that a reused head computes what archit's does."""
        config = self.backbone.config
        vocab_size, pad = self.backbone.vocab_size, getattr(config, "pad_token_id", None)
        length = min(8, self.backbone.max_length or 8)
        input_ids = (torch.arange(length, device=self.device) * 7 + 5) % vocab_size
        if pad is not None:
            input_ids = torch.where(input_ids == pad, (input_ids + 1) % vocab_size, input_ids)
        eos = getattr(config, "eos_token_id", None)
        if isinstance(eos, int) and eos != pad:  # BART's classifiers read the last end-of-sequence token
            input_ids[-1] = eos
        return {"input_ids": input_ids[None], "attention_mask": torch.ones_like(input_ids)[None]}

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

        The head comes from the checkpoint where it holds one for this task: an archit checkpoint of the task,
        or an HF ``XForY`` checkpoint whose head computes what archit's does (``RobertaForTokenClassification``,
        ``BertForQuestionAnswering``, ``DistilBertForMaskedLM``, ``LlamaForCausalLM``...), with its labels.
        Otherwise the head is new; :attr:`loading_report` says which, and why. A PEFT adapter directory (one
        holding ``adapter_config.json``, such as a LoRA run's) loads as transformers loads adapters: its base
        checkpoint, with the head and labels of the ``config.json`` saved beside the adapter, then the adapter
        attached unmerged, head included (see :mod:`~archit.modeling.tasks.adapter_loading`).

        Args:
            pretrained_model_name_or_path: a local directory written by ``save_pretrained``, or a Hugging Face
                Hub id (read from the cache, downloaded when missing unless offline).
            base_model_class: a ``<Family>BaseModel``, to insist on the checkpoint's family (optional).
            head_config: the head; by default the checkpoint's own for this task, else the task's default.
            **kwargs: head-config fields (``num_labels=5``...), as transformers' classes take config fields;
                ``id2label`` and ``label2id``; ``config``, a backbone config or :class:`ArchitConfig` used instead
                of the checkpoint's; then what transformers' ``from_pretrained`` takes: hub options
                (``revision``, ``cache_dir``, ``token``, ``local_files_only``, ``subfolder``,
                ``trust_remote_code``, off unless given) and loading options (``dtype``, ``device_map``,
                ``attn_implementation``, ``ignore_mismatched_sizes``...).

        Returns:
            The model, in eval mode as transformers leaves it, with ``loading_report`` (:class:`LoadingReport`).

        Raises:
            CheckpointError: missing directory, config or weights; a hub id that is not cached while offline
                (see :func:`~archit.resolution.checkpoints.locate_checkpoint`); an unreadable or truncated weights
                file; custom code (``auto_map``) without ``trust_remote_code=True``; backbone weights whose
                shapes the config does not describe; an adapter of another task, or without peft installed.
            UnknownArchitectureError: the checkpoint's model type produces no text hidden states.
            HeadConfigError: the head config is of the wrong kind, or disagrees with the checkpoint's head
                (a different ``num_labels``) and ``ignore_mismatched_sizes`` is not set.
        """
        adapter = find_adapter(pretrained_model_name_or_path, kwargs)
        if adapter is not None:
            model = load_with_adapter(
                cls, pretrained_model_name_or_path, adapter, base_model_class, head_config, model_args, kwargs
            )
        else:
            model = cls._load_checkpoint(
                pretrained_model_name_or_path, base_model_class, head_config, *model_args, **kwargs
            )
        model.loading_report.log()
        return model

    @classmethod
    def _load_checkpoint(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        base_model_class: type[BaseModel] | None = None,
        head_config: HeadConfig | None = None,
        *model_args: Any,
        **kwargs: Any,
    ) -> ModelWithHead:
        """:meth:`from_pretrained` of a checkpoint that is not an adapter, without logging the report."""
        checkpoint = locate_checkpoint(pretrained_model_name_or_path, **location_options(kwargs))
        plan = plan_loading(cls, checkpoint, base_model_class, head_config, kwargs)
        if "attn_implementation" in kwargs:
            set_attention_implementation(plan.config.backbone_config, kwargs["attn_implementation"])
        ignore_mismatched_sizes = kwargs.pop("ignore_mismatched_sizes", False)
        with quiet_loading():
            model, info = super(ModelWithHead, plan.model_class).from_pretrained(
                checkpoint.name_or_path,
                *model_args,
                config=plan.config,
                key_mapping=plan.key_mapping or None,
                output_loading_info=True,
                ignore_mismatched_sizes=True,
                **kwargs,
            )
        forget_key_mapping(model, plan.key_mapping)
        checkpoint_names = plan.match.checkpoint_names if plan.match is not None else {}
        outcome = LoadOutcome.from_loading_info(model, info, plan.checkpoint_shapes, checkpoint_names)
        outcome.notes += plan.notes
        if not plan.head_from_checkpoint and outcome.reaches_head():
            # a head weight found by its name alone (another task's head, ModernBERT's own "head.") is not kept
            outcome.drop_head()
            model._replace_head()
        raise_on_mismatch(outcome.mismatched, checkpoint.name_or_path, plan.config, ignore_mismatched_sizes)
        if plan.match is not None and outcome.fills_head():
            note = confirm_same_outputs(model, plan.match)
            if note is not None:
                outcome.drop_head()
                model._replace_head()
                outcome.notes.append(note)
        model.loading_report = outcome.report(model, checkpoint.name_or_path)
        return model

    @classmethod
    def checkpoint_head_prefixes(cls, family: Family, head_config: HeadConfig) -> tuple[str, str] | None:
        """Where the checkpoints of a family without an HF ``XForY`` class in transformers' Auto tables keep
        this task's head, and where it goes in :attr:`head`, as its head factory declares; ``None`` (the
        default) when no declaration exists."""
        return None
