"""ArchIt's base-model names (``RobertaBaseModel``, ``GPT2BaseModel``...), re-exported from archit.modeling."""

from archit.modeling.base_models import (  # noqa: F401
    AlbertBaseModel,
    BartBaseModel,
    BaseModel,
    BertBaseModel,
    CanineBaseModel,
    DebertaBaseModel,
    DebertaV2BaseModel,
    DistilBertBaseModel,
    ElectraBaseModel,
    GPT2BaseModel,
    GPTBigCodeBaseModel,
    LlamaBaseModel,
    MBartBaseModel,
    MistralBaseModel,
    ModernBertBaseModel,
    Qwen3BaseModel,
    RobertaBaseModel,
    T5BaseModel,
    XLMBaseModel,
    XLMRobertaBaseModel,
)
