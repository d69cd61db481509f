"""Which family a model belongs to, and what that family's tokenizer does."""

from archit.resolution.families import Family, FamilyRegistry, ModelArchitectures, WordBoundary
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
    "Family",
    "FamilyRegistry",
    "ModelArchitectures",
    "WordBoundary",
    "get_tokenizer_class",
    "is_text_model_type",
    "map_tokenizer",
    "resolve",
    "tokenizer_map",
]
