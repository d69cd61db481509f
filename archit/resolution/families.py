"""The backbone families archit knows, as data.

A family is a frozen :class:`Family` entry: the model types it covers, its tokenizer and the facts about it
that heads and data collators need. Code lives elsewhere and exists only for quirks that data cannot state.
The registry :data:`ModelArchitectures` is one object with ``register``, ``get`` and ``list``; its members
read like an enum (``ModelArchitectures.BERT``) and serialise as their name.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from archit.errors import RegistrationError, UnknownArchitectureError

__all__ = ["Family", "FamilyRegistry", "ModelArchitectures", "WordBoundary", "natural_key"]


class WordBoundary(str, Enum):
    """How a family's tokenizer marks where words start in its subword pieces."""

    CONTINUATION_PREFIX = "continuation_prefix"
    """WordPiece: pieces that continue a word start with ``##``."""
    START_PREFIX = "start_prefix"
    """Byte-level BPE (``Ġ``) and SentencePiece (``▁``): pieces that start a word carry a marker."""
    CHARACTER = "character"
    """Character-level models (CANINE): every character is a piece; words are found by whitespace."""


@dataclass(frozen=True)
class Family:
    """The facts archit needs about one backbone family.

    Args:
        name: the member name, upper case (``"BERT"``, ``"XLM_ROBERTA"``); also its serialised form.
        model_types: the ``config.model_type`` values of this family.
        tokenizer_class: name of the family's tokenizer class in the ``transformers`` namespace.
        is_causal: the backbone attends left to right only (decoder-only language models).
        has_token_type_ids: the backbone uses segment ids; when false, ``encode`` ignores them.
        word_boundary: how subword pieces mark word starts (see :class:`WordBoundary`).
        word_marker: the marker string itself (``"##"``, ``"Ġ"``, ``"▁"``; empty for characters).
        padding_side: where the tokenizer pads for batched generation and classification.
        add_prefix_space: the tokenizer needs ``add_prefix_space=True`` to tokenise pre-split words.
        backbone_class: name of the transformers class used as bare backbone; ``None`` means the class
            ``AutoModel`` maps the model type to. T5 uses its encoder class.
        uses_encoder: the backbone is used through its `get_encoder()` (BART, mBART, T5: encoder-decoder models).
        dropout_attribute: the config attribute holding the hidden dropout probability; ``None`` when the
            family has none, in which case :attr:`default_dropout` is used.
        default_dropout: dropout for heads when the config states none (0.1, as transformers' own
            ``LlamaForTokenClassification`` uses).
        position_offset: positions the family reserves before the first token, so that
            ``max_position_embeddings - position_offset`` tokens fit; 0 lets the wrapper read it from the model
            (RoBERTa-style position embeddings with a padding index reserve ``padding_idx + 1``).
        status: ``"tested"`` for families the test suite covers, ``"covered"`` for entries that fix a quirk
            only ``benchmarks/coverage.py`` exercises, ``"generic"`` for the catch-all member, ``"registered"``
            for families added from user code.
    """

    name: str
    model_types: tuple[str, ...]
    tokenizer_class: str | None = None
    is_causal: bool = False
    has_token_type_ids: bool = True
    word_boundary: WordBoundary = WordBoundary.CONTINUATION_PREFIX
    word_marker: str = "##"
    padding_side: str = "right"
    add_prefix_space: bool = False
    backbone_class: str | None = None
    uses_encoder: bool = False
    dropout_attribute: str | None = "hidden_dropout_prob"
    default_dropout: float = 0.1
    position_offset: int = 0
    status: str = "registered"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", self.name):
            raise RegistrationError(
                f"A family name must be an upper-case identifier such as 'MY_BERT'; got {self.name!r}."
            )
        if isinstance(self.model_types, str):
            raise RegistrationError(
                f"Family {self.name}: model_types must be a tuple of strings, got the string {self.model_types!r}; "
                f"write model_types=({self.model_types!r},)."
            )
        if self.padding_side not in ("left", "right"):
            raise RegistrationError(
                f"Family {self.name}: padding_side must be 'left' or 'right', got {self.padding_side!r}."
            )

    def __str__(self) -> str:
        return self.name


def natural_key(text: str) -> list:
    """Sort key that compares runs of digits as numbers (``"T5" < "T11"``)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


class FamilyRegistry:
    """The registry of backbone families: ``register``, ``get``, ``list``, and attribute access by name.

    The generic member is the fallback for any model type that no entry claims; it must be registered first.
    """

    GENERIC_NAME = "GENERIC"

    def __init__(self, families: Iterable[Family] = ()) -> None:
        self._families: dict[str, Family] = {}
        self._by_model_type: dict[str, Family] = {}
        for family in families:
            self.register(family)

    def register(self, family: Family, exist_ok: bool = False) -> Family:
        """Add a family (from user code too); returns it so it can be used as ``X = registry.register(...)``.

        Raises:
            RegistrationError: the name or one of its model types is taken and ``exist_ok`` is false.
        """
        if not isinstance(family, Family):
            raise RegistrationError(f"Expected a archit.resolution.Family, got {type(family).__name__}.")
        if not exist_ok:
            if family.name in self._families:
                raise RegistrationError(
                    f"A family named {family.name} is already registered; pass exist_ok=True to replace it."
                )
            taken = [t for t in family.model_types if t in self._by_model_type]
            if taken:
                owner = self._by_model_type[taken[0]].name
                raise RegistrationError(
                    f"Model type {taken[0]!r} already belongs to family {owner}; pass exist_ok=True to "
                    f"move it to {family.name}."
                )
        previous = self._families.get(family.name)
        if previous is not None:
            for model_type in previous.model_types:
                self._by_model_type.pop(model_type, None)
        self._families[family.name] = family
        for model_type in family.model_types:
            self._by_model_type[model_type] = family
        return family

    def unregister(self, name: str) -> Family:
        """Remove a family and return it."""
        family = self.get(name)
        del self._families[family.name]
        for model_type in family.model_types:
            if self._by_model_type.get(model_type) is family:
                del self._by_model_type[model_type]
        return family

    def get(self, name: str | Family) -> Family:
        """The family of that name (case-insensitive; a :class:`Family` is returned as it is).

        Raises:
            UnknownArchitectureError: no family has that name; the message lists the registered ones.
        """
        if isinstance(name, Family):
            return name
        family = self._families.get(str(name).upper().replace("-", "_"))
        if family is None:
            raise UnknownArchitectureError(
                f"No family named {name!r}. Registered families: {', '.join(self.list())}. "
                "Register a new one with archit.resolution.ModelArchitectures.register(Family(...))."
            )
        return family

    def for_model_type(self, model_type: str) -> Family | None:
        """The family that claims ``model_type``, or ``None``."""
        return self._by_model_type.get(model_type)

    def list(self, filter: str = "*", exclude_filters: Iterable[str] = ()) -> list[str]:
        """Family names matching the ``fnmatch`` pattern (case-insensitive), in natural order."""
        names = [n for n in self._families if fnmatch.fnmatch(n.lower(), filter.lower())]
        names = [n for n in names if not any(fnmatch.fnmatch(n.lower(), x.lower()) for x in exclude_filters)]
        return sorted(names, key=natural_key)

    @property
    def GENERIC(self) -> Family:  # noqa: N802 (reads like the enum member it stands for)
        return self.get(self.GENERIC_NAME)

    @contextlib.contextmanager
    def restoring(self) -> Iterator[FamilyRegistry]:
        """Context manager that undoes every registration made inside it (for tests)."""
        families, by_model_type = dict(self._families), dict(self._by_model_type)
        try:
            yield self
        finally:
            self._families, self._by_model_type = families, by_model_type

    def __getattr__(self, name: str) -> Family:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._families[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no family {name!r}") from None

    def __iter__(self) -> Iterator[Family]:
        return iter([self._families[name] for name in self.list()])

    def __contains__(self, item: str | Family) -> bool:
        return str(item).upper() in self._families

    def __len__(self) -> int:
        return len(self._families)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._families]


_WORDPIECE = {"word_boundary": WordBoundary.CONTINUATION_PREFIX, "word_marker": "##"}
_BYTE_BPE = {"word_boundary": WordBoundary.START_PREFIX, "word_marker": "Ġ", "add_prefix_space": True}
_SENTENCEPIECE = {"word_boundary": WordBoundary.START_PREFIX, "word_marker": "▁"}
_DECODER = {
    "is_causal": True,
    "has_token_type_ids": False,
    "padding_side": "left",
    "dropout_attribute": None,
    "status": "tested",
}

ModelArchitectures = FamilyRegistry(
    [
        Family("GENERIC", (), status="generic", dropout_attribute=None),
        Family("BERT", ("bert",), "BertTokenizer", status="tested", **_WORDPIECE),
        Family("ROBERTA", ("roberta",), "RobertaTokenizer", status="tested", **_BYTE_BPE),
        Family("XLM_ROBERTA", ("xlm-roberta",), "XLMRobertaTokenizer", status="tested", **_SENTENCEPIECE),
        Family("DEBERTA", ("deberta",), "DebertaTokenizer", status="tested", **_BYTE_BPE),
        Family("DEBERTA_V2", ("deberta-v2",), "DebertaV2Tokenizer", status="tested", **_SENTENCEPIECE),
        Family("ELECTRA", ("electra",), "ElectraTokenizer", status="tested", **_WORDPIECE),
        Family("ALBERT", ("albert",), "AlbertTokenizer", status="tested", **_SENTENCEPIECE),
        Family(
            "DISTILBERT",
            ("distilbert",),
            "DistilBertTokenizer",
            has_token_type_ids=False,
            dropout_attribute="dropout",
            status="tested",
            **_WORDPIECE,
        ),
        Family(
            "XLM",
            ("xlm",),
            "XLMTokenizer",
            has_token_type_ids=False,
            word_boundary=WordBoundary.START_PREFIX,
            word_marker="</w>",
            dropout_attribute="dropout",
            status="tested",
        ),
        Family(
            "MODERNBERT",
            ("modernbert",),
            "PreTrainedTokenizerFast",
            has_token_type_ids=False,
            dropout_attribute="embedding_dropout",
            status="tested",
            **_BYTE_BPE,
        ),
        Family(
            "CANINE",
            ("canine",),
            "CanineTokenizer",
            word_boundary=WordBoundary.CHARACTER,
            word_marker="",
            status="tested",
        ),
        Family(
            "BART",
            ("bart",),
            "BartTokenizer",
            has_token_type_ids=False,
            uses_encoder=True,
            dropout_attribute="dropout",
            status="tested",
            **_BYTE_BPE,
        ),
        Family(
            "MBART",
            ("mbart",),
            "MBartTokenizer",
            has_token_type_ids=False,
            uses_encoder=True,
            dropout_attribute="dropout",
            status="tested",
            **_SENTENCEPIECE,
        ),
        Family(
            "T5",
            ("t5",),
            "T5Tokenizer",
            has_token_type_ids=False,
            backbone_class="T5EncoderModel",
            uses_encoder=True,
            dropout_attribute="dropout_rate",
            status="tested",
            **_SENTENCEPIECE,
        ),
        Family("GPT2", ("gpt2",), "GPT2Tokenizer", **{**_DECODER, "dropout_attribute": "resid_pdrop"}, **_BYTE_BPE),
        Family(
            "GPT_BIGCODE",
            ("gpt_bigcode",),
            "GPT2Tokenizer",
            **{**_DECODER, "dropout_attribute": "resid_pdrop"},
            **_BYTE_BPE,
        ),
        Family(
            "REFORMER",
            ("reformer",),
            "ReformerTokenizer",
            has_token_type_ids=False,
            dropout_attribute=None,
            status="covered",
            **_SENTENCEPIECE,
        ),
        Family("LLAMA", ("llama",), "LlamaTokenizer", **_DECODER, **_SENTENCEPIECE),
        Family("MISTRAL", ("mistral",), "LlamaTokenizer", **_DECODER, **_SENTENCEPIECE),
        Family("QWEN3", ("qwen3",), "Qwen2Tokenizer", **_DECODER, **_BYTE_BPE),
    ]
)
