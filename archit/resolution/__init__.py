"""Which family a model belongs to, what that family's tokenizer does, and where a checkpoint's files are."""

from archit.resolution.checkpoints import HUB_OPTIONS, Checkpoint, locate_checkpoint
from archit.resolution.families import Family, FamilyRegistry, ModelArchitectures
from archit.resolution.resolve import (
    ARCHIT_MODEL_TYPE,
    get_tokenizer_class,
    is_text_model_type,
    map_tokenizer,
    resolve,
    tokenizer_map,
)

__all__ = [
    "ARCHIT_MODEL_TYPE",
    "HUB_OPTIONS",
    "Checkpoint",
    "Family",
    "FamilyRegistry",
    "ModelArchitectures",
    "get_tokenizer_class",
    "is_text_model_type",
    "locate_checkpoint",
    "map_tokenizer",
    "resolve",
    "tokenizer_map",
]
