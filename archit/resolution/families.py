"""The backbone families archit knows, as data.

A family is a frozen :class:`Family` entry: the model types it covers, its tokenizer and the facts about it
that heads and data collators need. Code lives elsewhere and exists only for quirks that data cannot state.
The registry :data:`ModelArchitectures` is an :class:`archit.registry.Registry` of families; its members
read like an enum (``ModelArchitectures.BERT``) and serialise as their name.

One vocabulary throughout :mod:`archit.resolution` and :mod:`archit.modeling`: a *family* is an entry of this
registry; a *backbone* is a model of a family, the bare transformers model a head sits on (its class is
``backbone_class(family, config)``, whose name a family may fix with ``backbone_class_name``); a
``<Family>BaseModel`` is ArchIt's constructor name for a family's backbone. ``ModelArchitectures`` keeps
ArchIt's name for the family registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from archit.errors import RegistrationError, UnknownArchitectureError
from archit.registry import Registry, natural_key

__all__ = ["Family", "FamilyRegistry", "ModelArchitectures", "natural_key"]


@dataclass(frozen=True)
class Family:
    """The facts archit needs about one backbone family.

    Args:
        name: the member name, upper case (``"BERT"``, ``"XLM_ROBERTA"``); also its serialised form.
        model_types: the ``config.model_type`` values of this family.
        tokenizer_class: name of the family's tokenizer class in the ``transformers`` namespace.
        is_causal: the backbone attends left to right only (decoder-only language models).
        has_token_type_ids: the backbone uses segment ids; when false, ``encode`` ignores them.
        padding_side: where the tokenizer pads for batched generation and classification.
        add_prefix_space: the tokenizer needs ``add_prefix_space=True`` to tokenise pre-split words.
        backbone_class_name: name of the transformers class used as bare backbone; ``None`` means the class
            ``AutoModel`` maps the model type to. T5 uses its encoder class.
        uses_encoder: the backbone is used through its `get_encoder()` (BART, mBART, T5: encoder-decoder models).
        dropout_attribute: the config attribute holding the hidden dropout probability; ``None`` when the
            family has none, in which case :attr:`default_dropout` is used.
        default_dropout: dropout for heads when the config states none (0.1, as transformers' own
            ``LlamaForTokenClassification`` uses).
        logit_scale_attribute: the config attribute the family's own causal-LM head scales its logits by
            (Cohere multiplies them by ``logit_scale``), so that archit's head computes the same logits;
            ``None``: no scaling.
        logit_scale_divides: the head divides by that attribute instead (Granite's ``logits_scaling``; the same
            name is a factor in HyperCLOVA X).
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
    padding_side: str = "right"
    add_prefix_space: bool = False
    backbone_class_name: str | None = None
    uses_encoder: bool = False
    dropout_attribute: str | None = "hidden_dropout_prob"
    default_dropout: float = 0.1
    logit_scale_attribute: str | None = None
    logit_scale_divides: bool = False
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


class FamilyRegistry(Registry[Family]):
    """The registry of backbone families: a :class:`~archit.registry.Registry` that also finds the family of a
    model type, refuses a model type two families claim, and reads its members as attributes
    (``ModelArchitectures.BERT``).

    The generic member is the fallback for any model type that no entry claims; it must be registered first.
    """

    GENERIC_NAME = "GENERIC"

    def __init__(self, families: Iterable[Family] = ()) -> None:
        super().__init__(
            "family",
            UnknownArchitectureError,
            "Register a new one with archit.resolution.ModelArchitectures.register(Family(...)).",
            normalise=lambda name: name.upper().replace("-", "_"),
        )
        for family in families:
            self.register(family)

    def register(self, family: Family, name: str | None = None, *, exist_ok: bool = False) -> Family:  # type: ignore[override]
        """Add a family (from user code too); returns it so it can be used as ``X = registry.register(...)``.

        Raises:
            RegistrationError: not a :class:`Family`, or its name or one of its model types is taken and
                ``exist_ok`` is false.
        """
        if not isinstance(family, Family):
            raise RegistrationError(f"Expected a archit.resolution.Family, got {type(family).__name__}.")
        if name is not None and self.normalise(name) != family.name:
            raise RegistrationError(f"Family {family.name} is registered under its own name, not {name!r}.")
        if not exist_ok:
            for model_type in family.model_types:
                owner = self.for_model_type(model_type)
                if owner is not None and owner.name != family.name:
                    raise RegistrationError(
                        f"Model type {model_type!r} already belongs to family {owner.name}; pass exist_ok=True to "
                        f"move it to {family.name}."
                    )
        return super().register(family, family.name, exist_ok=exist_ok)

    def get(self, name: str | Family) -> Family:
        """The family of that name (case-insensitive, ``-`` read as ``_``; a :class:`Family` is returned as it is).

        Raises:
            UnknownArchitectureError: no family has that name; the message lists the registered ones.
        """
        return name if isinstance(name, Family) else super().get(str(name))

    def for_model_type(self, model_type: str) -> Family | None:
        """The family that claims ``model_type`` (the latest registered, when one moved it), or ``None``."""
        return next((family for family in reversed(self._entries.values()) if model_type in family.model_types), None)

    @property
    def GENERIC(self) -> Family:  # noqa: N802 (reads like the enum member it stands for)
        return self.get(self.GENERIC_NAME)

    def __getattr__(self, name: str) -> Family:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._entries[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no family {name!r}") from None

    def __contains__(self, item: object) -> bool:
        return super().__contains__(str(item) if isinstance(item, Family) else item)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._entries]

    @staticmethod
    def _describe(entry: Family) -> str:
        return f"model types {', '.join(entry.model_types) or 'none'}"


_BYTE_BPE: dict[str, Any] = {"add_prefix_space": True}
_DECODER: dict[str, Any] = {
    "is_causal": True,
    "has_token_type_ids": False,
    "padding_side": "left",
    "dropout_attribute": None,
    "status": "tested",
}

ModelArchitectures = FamilyRegistry(
    [
        Family("GENERIC", (), status="generic", dropout_attribute=None),
        Family("BERT", ("bert",), "BertTokenizer", status="tested"),
        Family("ROBERTA", ("roberta",), "RobertaTokenizer", status="tested", **_BYTE_BPE),
        Family("XLM_ROBERTA", ("xlm-roberta",), "XLMRobertaTokenizer", status="tested"),
        Family("DEBERTA", ("deberta",), "DebertaTokenizer", status="tested", **_BYTE_BPE),
        Family("DEBERTA_V2", ("deberta-v2",), "DebertaV2Tokenizer", status="tested"),
        Family("ELECTRA", ("electra",), "ElectraTokenizer", status="tested"),
        Family("ALBERT", ("albert",), "AlbertTokenizer", status="tested"),
        Family(
            "DISTILBERT",
            ("distilbert",),
            "DistilBertTokenizer",
            has_token_type_ids=False,
            dropout_attribute="dropout",
            status="tested",
        ),
        Family(
            "XLM",
            ("xlm",),
            "XLMTokenizer",
            has_token_type_ids=False,
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
        ),
        Family(
            "T5",
            ("t5",),
            "T5Tokenizer",
            has_token_type_ids=False,
            backbone_class_name="T5EncoderModel",
            uses_encoder=True,
            dropout_attribute="dropout_rate",
            status="tested",
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
        ),
        # decoders whose own causal-LM heads scale their logits (quirk: logit_scale_attribute)
        Family(
            "COHERE",
            ("cohere", "cohere2", "cohere2_moe"),
            "CohereTokenizer",
            **{**_DECODER, "status": "covered"},
            logit_scale_attribute="logit_scale",
        ),
        Family(
            "GRANITE",
            ("granite", "granite_swa", "granitemoe", "granitemoe_swa", "granitemoehybrid", "granitemoeshared"),
            "GPT2Tokenizer",
            **{**_DECODER, "status": "covered"},
            logit_scale_attribute="logits_scaling",
            logit_scale_divides=True,
        ),
        Family(
            "HYPERCLOVAX",
            ("hyperclovax",),
            **{**_DECODER, "status": "covered"},
            logit_scale_attribute="logits_scaling",
        ),
        Family("LLAMA", ("llama",), "LlamaTokenizer", **_DECODER),
        Family("MISTRAL", ("mistral",), "LlamaTokenizer", **_DECODER),
        Family("QWEN3", ("qwen3",), "Qwen2Tokenizer", **_DECODER, **_BYTE_BPE),
    ]
)
