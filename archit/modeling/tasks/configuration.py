"""``ArchitConfig``: the config of a model-with-head (backbone config, head config and task in one file)."""

from __future__ import annotations

from typing import Any

from transformers import AutoConfig, GenerationConfig, PretrainedConfig

from archit.errors import CheckpointError
from archit.modeling.heads.base import HeadConfig, head_config_from_dict
from archit.resolution import ARCHIT_MODEL_TYPE

__all__ = ["LABEL_MAPS", "ArchitConfig"]

LABEL_MAPS = ("id2label", "label2id")
"""The config fields that name a classifier's classes, given as keyword arguments beside the head's fields."""

# Read from the backbone so that generation, padding and weight tying behave as the backbone's own would.
_INHERITED_FROM_BACKBONE = ("pad_token_id", "bos_token_id", "eos_token_id", "tie_word_embeddings")
# Generation settings belong in generation_config: a config that shows them refuses to save in transformers 5.
_GENERATION_PARAMETERS = frozenset(GenerationConfig().to_dict())
# Read by PretrainedConfig's own validators on this config, which would judge the backbone's values by the base
# class's rules: a per-layer spec makes a config heterogeneous (and validating it recurse), and MLP layer kinds
# are model-specific (DeepSeek-V4's "hash_moe"). The backbone config validates its own.
_BACKBONE_ONLY = frozenset({"_heterogeneity_spec", "mlp_layer_types"})


class ArchitConfig(PretrainedConfig):
    """Config of every archit model-with-head, registered with ``AutoConfig`` as model type ``"archit"``.

    Attributes the config itself does not have are read from the backbone config, so code written for the
    backbone (``config.hidden_size``, ``config.num_hidden_layers``, generation caches) works unchanged.

    Args:
        backbone_config: the backbone's config, or its ``to_dict()``.
        head_config: the head's :class:`~archit.modeling.heads.HeadConfig`, or its ``to_dict()``.
        task: the task name (``"token_classification"``...).
        **kwargs: the usual ``PretrainedConfig`` arguments (``id2label``...).
    """

    model_type = ARCHIT_MODEL_TYPE
    sub_configs = {"backbone_config": AutoConfig}

    def __init__(
        self,
        backbone_config: PretrainedConfig | dict[str, Any] | None = None,
        head_config: HeadConfig | dict[str, Any] | None = None,
        task: str | None = None,
        **kwargs: Any,
    ) -> None:
        backbone = _backbone_config_from_dict(backbone_config) if isinstance(backbone_config, dict) else backbone_config
        self.backbone_config = backbone
        self.head_config = head_config.to_dict() if isinstance(head_config, HeadConfig) else head_config
        self.task = task
        if backbone is not None:
            for name in _INHERITED_FROM_BACKBONE:
                if kwargs.get(name) is None and getattr(backbone, name, None) is not None:
                    kwargs[name] = getattr(backbone, name)
        if kwargs.get("id2label") and not kwargs.get("label2id"):
            kwargs["label2id"] = {label: int(index) for index, label in kwargs["id2label"].items()}
        if kwargs.get("label2id") and not kwargs.get("id2label"):
            kwargs["id2label"] = {int(index): label for label, index in kwargs["label2id"].items()}
        num_labels = (self.head_config or {}).get("num_labels")
        if num_labels is not None and kwargs.get("id2label") is None:
            kwargs["num_labels"] = num_labels
        attention = getattr(backbone, "_attn_implementation", None)
        super().__init__(**kwargs)
        if backbone is not None and attention is not None and kwargs.get("attn_implementation") is None:
            # transformers gives sub-configs the top config's attention (None here): keep the backbone's.
            backbone._attn_implementation = attention

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
        """The config from its ``to_dict()``; a backbone's own config (another ``model_type``, as PEFT reads a
        LoRA run's base checkpoint with ``ArchitConfig.from_pretrained``) becomes the backbone of one."""
        if config_dict.get("model_type", cls.model_type) != cls.model_type:
            config_dict = {"backbone_config": dict(config_dict)}
        return super().from_dict(config_dict, **kwargs)

    def get_head_config(self) -> HeadConfig | None:
        """The head config as its attrs class."""
        return None if self.head_config is None else head_config_from_dict(self.head_config)

    def __getattr__(self, name: str) -> Any:
        backbone = self.__dict__.get("backbone_config")
        if name.startswith("__") or backbone is None or name in _GENERATION_PARAMETERS or name in _BACKBONE_ONLY:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        try:
            return getattr(backbone, name)
        except RuntimeError as error:  # a heterogeneous backbone (Gemma 4) has no one value of a per-layer attribute
            if not getattr(backbone, "is_heterogeneous", False):
                raise
            raise AttributeError(f"{name!r} varies across the backbone's layers: {error}") from error


def _backbone_config_from_dict(saved: dict[str, Any]) -> PretrainedConfig:
    """The backbone's config from its ``to_dict()``.

    Raises:
        CheckpointError: the backbone's model type is one only its own code (``auto_map``) knows.
    """
    values = dict(saved)
    model_type = values.pop("model_type")
    try:
        return AutoConfig.for_model(model_type, **values)
    except ValueError:
        if "AutoConfig" not in (values.get("auto_map") or {}):
            raise
        raise CheckpointError(
            f"The backbone of this archit model is a {model_type!r} model that runs its own code "
            f"({values['auto_map']['AutoConfig']}), which archit checkpoints do not carry. Register its classes "
            f"first (transformers.AutoConfig.register({model_type!r}, ConfigClass) and "
            "transformers.AutoModel.register(ConfigClass, ModelClass)), or load the original checkpoint with "
            "trust_remote_code=True."
        ) from None


AutoConfig.register(ARCHIT_MODEL_TYPE, ArchitConfig, exist_ok=True)
