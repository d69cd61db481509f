"""Kept so that ``archit.simple.data.conllu`` keeps importing: CoNLL-U now lives in
:mod:`archit.simple.formats.conllu`, below both task data and metrics."""

from archit.simple.formats.conllu import (
    ConlluSentence,
    LabelVocabulary,
    format_conllu,
    iter_conllu,
    parse_conllu,
    read_conllu,
    write_conllu,
)

__all__ = [
    "ConlluSentence",
    "LabelVocabulary",
    "format_conllu",
    "iter_conllu",
    "parse_conllu",
    "read_conllu",
    "write_conllu",
]
