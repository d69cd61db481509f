"""Kept so that ``archit.simple.data.conllu`` keeps importing: CoNLL-U now lives in
:mod:`archit.simple.formats.conllu`, below both task data and metrics."""

from archit.simple.formats import conllu as _conllu
from archit.simple.formats.conllu import *  # noqa: F403

__all__ = [*_conllu.__all__]
