"""``ForDependencyParsing``: biaffine parsing over words, any backbone, sentences of any length; with the
model-independent pieces it is built from (:mod:`.biaffine`, :mod:`.decoding`, :mod:`.loss`)."""

from archit.modeling.tasks.dependency_parsing.config import SUBWORD_POOLING, DependencyParsingHeadConfig
from archit.modeling.tasks.dependency_parsing.head import DependencyParsingHead, ScalarMix, pool_words
from archit.modeling.tasks.dependency_parsing.model import (
    DependencyParsingOutput,
    ForDependencyParsing,
    encode_in_windows,
)
from archit.modeling.tasks.registration import register_task

__all__ = [
    "DependencyParsingHead",
    "DependencyParsingHeadConfig",
    "DependencyParsingOutput",
    "ForDependencyParsing",
    "SUBWORD_POOLING",
    "ScalarMix",
    "encode_in_windows",
    "pool_words",
]

register_task(ForDependencyParsing)
