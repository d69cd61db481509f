"""Configs of the native recurrent backbones (RNN, LSTM, GRU), each with its own ``model_type``.

The three configs differ only in their ``model_type`` and cell; they share the sizes of
:class:`RecurrentConfig`. ``hidden_size`` is the width of one direction, as in :class:`torch.nn.LSTM`; what the
backbone returns is :attr:`RecurrentConfig.output_size` wide.
"""

from __future__ import annotations

from typing import Any, ClassVar

from transformers import PretrainedConfig

from archit.errors import NativeConfigError

__all__ = ["GRUConfig", "LSTMConfig", "NativeConfigError", "RNNConfig", "RecurrentConfig"]


class RecurrentConfig(PretrainedConfig):
    """Sizes of a recurrent backbone: embeddings, then ``num_hidden_layers`` recurrent layers.

    Args:
        vocab_size: rows of the embedding matrix.
        embedding_size: width of the token embeddings.
        hidden_size: width of one direction of each recurrent layer.
        num_hidden_layers: number of stacked recurrent layers.
        bidirectional: each layer also reads right to left; such a backbone is not causal (masked LM, tagging).
        hidden_dropout_prob: dropout on the embeddings and between layers (heads use it too).
        initializer_range: standard deviation of the normal init of embeddings and linear layers.
        tie_word_embeddings: an LM head shares the embedding matrix; the backbone then ends in a projection to
            ``embedding_size`` when its layers are wider (see :attr:`output_size`).
        use_cache: return the recurrent state for generation by default.
        **kwargs: passed to :class:`~transformers.PretrainedConfig` (``pad_token_id``, ``bos_token_id``...).

    Raises:
        NativeConfigError: a size is below 1 or the dropout is outside ``[0, 1)``.
    """

    model_type = "archit-recurrent"
    cell: ClassVar[str] = "rnn"
    """The :mod:`torch.nn` recurrent module each layer is: ``"rnn"``, ``"lstm"`` or ``"gru"``."""

    def __init__(
        self,
        vocab_size: int = 1000,
        embedding_size: int = 256,
        hidden_size: int = 256,
        num_hidden_layers: int = 2,
        bidirectional: bool = False,
        hidden_dropout_prob: float = 0.1,
        initializer_range: float = 0.1,
        tie_word_embeddings: bool = True,
        use_cache: bool = True,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.bidirectional = bidirectional
        self.hidden_dropout_prob = hidden_dropout_prob
        self.initializer_range = initializer_range
        self.use_cache = use_cache
        super().__init__(tie_word_embeddings=tie_word_embeddings, **kwargs)
        self._validate_sizes()

    def _validate_sizes(self) -> None:
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise NativeConfigError(f"{type(self).__name__}.{name} must be a positive integer; got {value!r}.")
        if not 0.0 <= self.hidden_dropout_prob < 1.0:
            raise NativeConfigError(
                f"{type(self).__name__}.hidden_dropout_prob must be in [0, 1); got {self.hidden_dropout_prob!r}."
            )

    @property
    def num_directions(self) -> int:
        """2 for a bidirectional backbone, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def recurrent_output_size(self) -> int:
        """Width of the last recurrent layer's output: ``hidden_size * num_directions``."""
        return self.hidden_size * self.num_directions

    @property
    def output_size(self) -> int:
        """Width of the hidden states the backbone returns.

        ``embedding_size`` when embeddings are tied (so that an LM head can share the embedding matrix), else the
        recurrent output width.
        """
        return self.embedding_size if self.tie_word_embeddings else self.recurrent_output_size


class LSTMConfig(RecurrentConfig):
    """Config of :class:`~archit.modeling.native.LSTMModel`; see :class:`RecurrentConfig` for the arguments."""

    model_type = "archit-lstm"
    cell = "lstm"

    def __init__(self, **kwargs: Any) -> None:  # explicit: transformers 5 would generate one that skips ours
        super().__init__(**kwargs)


class GRUConfig(RecurrentConfig):
    """Config of :class:`~archit.modeling.native.GRUModel`; see :class:`RecurrentConfig` for the arguments."""

    model_type = "archit-gru"
    cell = "gru"

    def __init__(self, **kwargs: Any) -> None:  # explicit: transformers 5 would generate one that skips ours
        super().__init__(**kwargs)


class RNNConfig(RecurrentConfig):
    """Config of :class:`~archit.modeling.native.RNNModel` (Elman RNN).

    Args:
        nonlinearity: ``"tanh"`` or ``"relu"``, as in :class:`torch.nn.RNN`.
        **kwargs: see :class:`RecurrentConfig`.

    Raises:
        NativeConfigError: an unknown nonlinearity, or any error of :class:`RecurrentConfig`.
    """

    model_type = "archit-rnn"
    cell = "rnn"
    NONLINEARITIES: ClassVar[tuple[str, ...]] = ("tanh", "relu")

    def __init__(self, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        if nonlinearity not in self.NONLINEARITIES:
            raise NativeConfigError(
                f"RNNConfig.nonlinearity must be one of {', '.join(self.NONLINEARITIES)}; got {nonlinearity!r}."
            )
        self.nonlinearity = nonlinearity
        super().__init__(**kwargs)
