"""ArchIt's ``<Family>BaseModel`` names: build or load a family's bare backbone, already wrapped.

``RobertaBaseModel(RobertaConfig(...))`` returns a wrapped ``RobertaModel`` (not a ``RobertaBaseModel``
instance: these classes are constructors and ``isinstance`` tests, the object stays the HF model).
"""

from __future__ import annotations

import os
import sys
from typing import Any, ClassVar, cast

import transformers
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

from archit._compat import bare_model_class, decoder_free_attributes, remote_code_class
from archit.errors import UnknownArchitectureError
from archit.modeling.wrappers import ArchitWrapper, wrap
from archit.resolution import ARCHIT_MODEL_TYPE, Family, ModelArchitectures, resolve
from archit.resolution.checkpoints import locate_checkpoint, location_options

__all__ = [
    "BaseModel",
    "BertBaseModel",
    "RobertaBaseModel",
    "XLMRobertaBaseModel",
    "DebertaBaseModel",
    "DebertaV2BaseModel",
    "ElectraBaseModel",
    "AlbertBaseModel",
    "DistilBertBaseModel",
    "XLMBaseModel",
    "ModernBertBaseModel",
    "CanineBaseModel",
    "BartBaseModel",
    "MBartBaseModel",
    "T5BaseModel",
    "GPT2BaseModel",
    "GPTBigCodeBaseModel",
    "LlamaBaseModel",
    "MistralBaseModel",
    "Qwen3BaseModel",
    "backbone_class",
    "backbone_config",
    "base_model_class",
]


def backbone_class(family: Family, config: PretrainedConfig) -> type[PreTrainedModel]:
    """The transformers class that serves as bare backbone of ``family`` for ``config``: the family's, the one
    ``AutoModel`` maps the config to, or the checkpoint's own (``auto_map``, for a config loaded with
    ``trust_remote_code=True``).

    Raises:
        UnknownArchitectureError: transformers has no bare model class for the config.
    """
    if family.backbone_class_name is not None:
        return getattr(transformers, family.backbone_class_name)
    klass = bare_model_class(config)
    if klass is None and "AutoModel" in (getattr(config, "auto_map", None) or {}):
        klass = remote_code_class(config, "AutoModel")
    if klass is None:
        raise UnknownArchitectureError(
            f"transformers maps no bare model class (AutoModel) to {type(config).__name__}; register one with "
            "transformers.AutoModel.register(config_class, model_class)."
        )
    return without_decoder(klass) if family.uses_encoder else klass


def without_decoder(model_class: type[PreTrainedModel]) -> type[PreTrainedModel]:
    """The subclass of an encoder-decoder ``model_class`` that is built without its decoder (cached): the
    backbone of a family used through its encoder (BART, mBART). A checkpoint's decoder weights then have no
    place in the model (a load reports them unused) and are not saved with it; the encoder and the shared
    embeddings load from the model's own checkpoints as before."""
    subclass = _WITHOUT_DECODER.get(model_class)
    if subclass is None:
        attribute = model_class.__name__ + _WITHOUT_DECODER_SUFFIX
        namespace = {
            "__module__": __name__,
            "__qualname__": attribute,
            "__doc__": f"{model_class.__name__} without its decoder (archit uses its encoder only).",
            "post_init": _post_init_without_decoder,
            "set_input_embeddings": _set_input_embeddings_without_decoder,
            **decoder_free_attributes(model_class),
        }
        # __name__ stays the HF class's, so a saved backbone names a class AutoModel knows.
        subclass = type(model_class.__name__, (model_class,), namespace)
        setattr(sys.modules[__name__], attribute, subclass)
        _WITHOUT_DECODER[model_class] = subclass
    return subclass


_WITHOUT_DECODER: dict[type[PreTrainedModel], type[PreTrainedModel]] = {}
_WITHOUT_DECODER_SUFFIX = "WithoutDecoder"


def __getattr__(name: str) -> type:
    # Unpickling in a fresh process looks the decoder-free classes up here before anything built them.
    model_class = getattr(transformers, name.removesuffix(_WITHOUT_DECODER_SUFFIX), None)
    if name.endswith(_WITHOUT_DECODER_SUFFIX) and isinstance(model_class, type):
        return without_decoder(model_class)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _post_init_without_decoder(self: Any) -> None:
    # The decoder goes before transformers records ties and initialises weights (post_init ends __init__).
    self.decoder = None
    super(_owner(type(self)), self).post_init()


def _owner(klass: type[PreTrainedModel]) -> type[PreTrainedModel]:
    """The decoder-free subclass in ``klass``'s MRO (``klass`` may be a wrapped class derived from it)."""
    return next(base for base in klass.__mro__ if base.__dict__.get("post_init") is _post_init_without_decoder)


def _set_input_embeddings_without_decoder(self: Any, value: nn.Module) -> None:
    # The parent's method also hands the embeddings to the decoder: give it a stand-in for the time of the call.
    self.decoder = nn.Module()
    super(_owner(type(self)), self).set_input_embeddings(value)
    self.decoder = None


def backbone_config(config: PretrainedConfig) -> PretrainedConfig:
    """The backbone part of a config: itself, or the ``backbone_config`` of an archit model-with-head config."""
    return config.backbone_config if config.model_type == ARCHIT_MODEL_TYPE else config


class _BaseModelMeta(type):
    family_name: str | None  # set by each class (BaseModel's own: None)

    def __instancecheck__(cls, instance: Any) -> bool:
        if not isinstance(instance, ArchitWrapper):
            return False
        return cls.family_name is None or instance.family.name == cls.family_name


class BaseModel(metaclass=_BaseModelMeta):
    """Builds (``BaseModel(config)``) or loads (``BaseModel.from_pretrained(path)``) a wrapped backbone.

    The family is the class's own for the ``<Family>BaseModel`` subclasses, and resolved from the config for
    ``BaseModel`` itself.
    """

    family_name: ClassVar[str | None] = None

    def __new__(cls, config: PretrainedConfig, **kwargs: Any) -> ArchitWrapper:  # type: ignore[misc]
        config = backbone_config(config)
        family = cls.family(config)
        return wrap(backbone_class(family, config)(config, **kwargs), family)

    @classmethod
    def family(cls, config: PretrainedConfig | None = None) -> Family:
        """The family this class builds; for ``BaseModel`` itself, the family of ``config``.

        Raises:
            UnknownArchitectureError: ``config`` belongs to another family than the class's.
        """
        if cls.family_name is None:
            return resolve(config)
        family = ModelArchitectures.get(cls.family_name)
        if config is not None and resolve(config) is not family and family.model_types:
            raise UnknownArchitectureError(
                f"{cls.__name__} builds {family.name} backbones (model types {', '.join(family.model_types)}), "
                f"but the config is of model type {config.model_type!r}; use "
                "archit.modeling.BaseModel, which resolves the family from the config."
            )
        return family

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any) -> ArchitWrapper:
        """Same as ``cls(config)``: a backbone with random weights."""
        return cls(config, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> ArchitWrapper:
        """Load the backbone weights of any checkpoint kind (bare, HF ``XForY`` or archit) and wrap them.

        Args:
            name_or_path: a local directory written by ``save_pretrained``, or a Hugging Face Hub id.
            **kwargs: passed to transformers' ``from_pretrained``: hub options (``revision``, ``cache_dir``,
                ``token``, ``local_files_only``, ``subfolder``, ``trust_remote_code``) and loading options
                (``dtype``, ``device_map``, ``attn_implementation``...).

        Raises:
            CheckpointError: see :func:`~archit.resolution.checkpoints.locate_checkpoint`.
        """
        checkpoint = locate_checkpoint(name_or_path, **location_options(kwargs))
        config = kwargs.pop("config", None) or checkpoint.load_config(kwargs.get("trust_remote_code", False))
        config = backbone_config(config)
        family = cls.family(config)
        model = backbone_class(family, config).from_pretrained(checkpoint.name_or_path, config=config, **kwargs)
        return wrap(model, family)


def base_model_class(family: Family | str, class_name: str | None = None) -> type[BaseModel]:
    """Create the ``<Family>BaseModel`` class of a family (for user-registered families too)."""
    family = ModelArchitectures.get(family)
    name = class_name or family.name.title().replace("_", "") + "BaseModel"
    # the metaclass builds a subclass of BaseModel, which its return type cannot say
    return cast(
        type[BaseModel], _BaseModelMeta(name, (BaseModel,), {"family_name": family.name, "__module__": __name__})
    )


BertBaseModel = base_model_class("BERT", "BertBaseModel")
RobertaBaseModel = base_model_class("ROBERTA", "RobertaBaseModel")
XLMRobertaBaseModel = base_model_class("XLM_ROBERTA", "XLMRobertaBaseModel")
DebertaBaseModel = base_model_class("DEBERTA", "DebertaBaseModel")
DebertaV2BaseModel = base_model_class("DEBERTA_V2", "DebertaV2BaseModel")
ElectraBaseModel = base_model_class("ELECTRA", "ElectraBaseModel")
AlbertBaseModel = base_model_class("ALBERT", "AlbertBaseModel")
DistilBertBaseModel = base_model_class("DISTILBERT", "DistilBertBaseModel")
XLMBaseModel = base_model_class("XLM", "XLMBaseModel")
ModernBertBaseModel = base_model_class("MODERNBERT", "ModernBertBaseModel")
CanineBaseModel = base_model_class("CANINE", "CanineBaseModel")
BartBaseModel = base_model_class("BART", "BartBaseModel")
MBartBaseModel = base_model_class("MBART", "MBartBaseModel")
T5BaseModel = base_model_class("T5", "T5BaseModel")
GPT2BaseModel = base_model_class("GPT2", "GPT2BaseModel")
GPTBigCodeBaseModel = base_model_class("GPT_BIGCODE", "GPTBigCodeBaseModel")
LlamaBaseModel = base_model_class("LLAMA", "LlamaBaseModel")
MistralBaseModel = base_model_class("MISTRAL", "MistralBaseModel")
Qwen3BaseModel = base_model_class("QWEN3", "Qwen3BaseModel")
