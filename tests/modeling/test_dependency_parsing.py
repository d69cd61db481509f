"""ForDependencyParsing beyond the common task checks: words from subwords, long sentences, trees."""

from __future__ import annotations

import pytest
import torch

from archit.errors import DataError, HeadConfigError
from archit.modeling import ArchitFactory
from archit.modeling.heads.dependency_parsing import pool_words
from archit.modeling.parsing import is_tree
from archit.modeling.tasks.dependency_parsing import encode_in_windows
from tests.tiny_configs import tiny_config, tiny_recurrent_config


def test_pool_words_first_last_mean() -> None:
    hidden = torch.arange(12, dtype=torch.float).view(1, 6, 2)  # token t has vector [2t, 2t + 1]
    word_ids = torch.tensor([[-1, 0, 0, 1, 1, -1]])
    first, mask = pool_words(hidden, word_ids, "first")
    assert first.tolist() == [[[2.0, 3.0], [6.0, 7.0]]] and mask.tolist() == [[True, True]]
    assert pool_words(hidden, word_ids, "last")[0].tolist() == [[[4.0, 5.0], [8.0, 9.0]]]
    assert pool_words(hidden, word_ids, "mean")[0].tolist() == [[[3.0, 4.0], [7.0, 8.0]]]


def test_short_inputs_are_encoded_in_one_piece() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing").eval()
    input_ids = torch.randint(3, 99, (2, 10))
    with torch.no_grad():
        direct = model.backbone.encode(input_ids).last_hidden_state
        windowed = encode_in_windows(model.backbone, input_ids, None, None, False, 64).last_hidden_state
    assert torch.equal(direct, windowed)


@pytest.mark.parametrize("family", ["BERT", "ROBERTA", "GPT2"])
def test_sentences_longer_than_the_backbone_parse_into_trees(family: str) -> None:
    # The tiny configs take 64 positions; this sentence has 150 tokens, 100 words.
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config(family), task="dep_parsing", num_labels=3).eval()
    max_length = model.backbone.max_length
    seq_len = 150
    assert seq_len > max_length
    input_ids = torch.randint(3, 99, (1, seq_len))
    word_ids = torch.tensor([[-1] + [position * 2 // 3 for position in range(seq_len - 2)] + [-1]])
    with torch.no_grad():
        windowed = encode_in_windows(model.backbone, input_ids, None, None, True, max_length)
        output = model(input_ids=input_ids, word_ids=word_ids)
    assert windowed.last_hidden_state.shape == (1, seq_len, 32)
    assert len(windowed.hidden_states) == 3 and torch.equal(windowed.hidden_states[-1], windowed.last_hidden_state)
    n_words = int(word_ids.max()) + 1
    assert output.arc_predictions.shape == (1, n_words)
    heads = torch.cat((torch.zeros(1, 1, dtype=torch.long), output.arc_predictions), 1)
    mask = torch.cat((torch.zeros(1, 1, dtype=torch.bool), torch.ones(1, n_words, dtype=torch.bool)), 1)
    assert is_tree(heads, mask).all()


def test_scalar_mix_reads_the_last_layers() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing", scalar_mix_layers=3)
    # the biaffine weights start at zero (SuPar's choice), which gives every layer a zero gradient at first
    torch.nn.init.normal_(model.head.arc_attention.weight)
    inputs = {"input_ids": torch.randint(3, 99, (2, 6)), "word_ids": torch.tensor([[-1, 0, 1, 2, 3, -1]] * 2)}
    loss = model(**inputs, arc_labels=torch.tensor([[2, 0, 2, 3]] * 2), rel_labels=torch.zeros(2, 4).long()).loss
    loss.backward()
    assert model.head.scalar_mix.weights.grad is not None and model.head.scalar_mix.weights.grad.abs().sum() > 0


def test_scalar_mix_of_more_layers_than_the_backbone_has_mixes_them_all() -> None:
    # the default mixes 4 hidden states; the tiny BERT has 3 (embeddings and 2 layers)
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing").eval()
    assert model.head.n_layers == 4
    with torch.no_grad():
        torch.nn.init.normal_(model.head.scalar_mix.weights)
        layers = model.backbone.encode(torch.randint(3, 99, (1, 5)), output_hidden_states=True).hidden_states
        mixed = model.head.scalar_mix(layers)
    weights = model.head.scalar_mix.weights[1:].softmax(-1)
    expected = sum(weight * layer for weight, layer in zip(weights, layers, strict=True))
    assert len(layers) == 3 and torch.allclose(mixed, expected, atol=1e-6)


def test_scalar_mix_stops_at_a_layer_of_another_shape() -> None:
    # the native LSTM's hidden states: its 16-wide embeddings, two 24-wide layers, the 16-wide output projection
    model = ArchitFactory.from_config(tiny_recurrent_config("LSTM"), task="dep_parsing").eval()
    with torch.no_grad():
        encoded = model.backbone.encode(torch.randint(3, 99, (1, 5)), output_hidden_states=True)
    layers = encoded.hidden_states
    assert [layer.shape[-1] for layer in layers] == [16, 24, 24, 16]
    assert model.head._last_layers(layers, encoded.last_hidden_state) == (layers[-1],)
    wide, narrow, stacked = torch.zeros(1, 5, 24), torch.zeros(1, 5, 16), torch.zeros(2, 1, 5, 16)
    assert model.head._last_layers((narrow, wide, narrow, narrow), narrow) == (narrow, narrow)
    # no hidden state of the last one's shape (Gemma 3n's stacked streams): the last hidden state alone
    assert model.head._last_layers((stacked,) * 3, narrow) == (narrow,)
    inputs = {"input_ids": torch.randint(3, 99, (2, 6)), "word_ids": torch.tensor([[-1, 0, 1, 2, 3, -1]] * 2)}
    assert model(**inputs).arc_predictions.shape == (2, 4)


def test_word_dropout_is_apart_from_the_mlp_dropout() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing", word_dropout=0.2, dropout=0.4)
    assert model.head.dropout.p == 0.2 and model.head.arc_dep.dropout.p == 0.4
    with pytest.raises(HeadConfigError, match=r"word_dropout must be in \[0, 1\); got 1.5"):
        ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing", word_dropout=1.5)


@pytest.mark.parametrize("decoder", ["mst", "eisner", "greedy"])
def test_decoder_choice(decoder: str) -> None:
    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing", decoder=decoder).eval()
    inputs = {"input_ids": torch.randint(3, 99, (2, 8)), "word_ids": torch.tensor([[-1, 0, 1, 2, 3, 4, 5, -1]] * 2)}
    with torch.no_grad():
        output = model(**inputs)
    assert output.arc_predictions.shape == (2, 6) and output.rel_predictions.shape == (2, 6)
    if decoder != "greedy":
        heads = torch.cat((torch.zeros(2, 1, dtype=torch.long), output.arc_predictions), 1)
        mask = torch.ones(2, 7, dtype=torch.bool)
        mask[:, 0] = False
        assert is_tree(heads, mask).all()


def test_missing_word_ids_is_a_data_error() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing")
    with pytest.raises(DataError, match="needs word_ids; build batches with archit's parsing collator"):
        model(input_ids=torch.randint(3, 99, (1, 6)))


def test_a_parser_saved_with_root_as_a_bare_parameter_loads_under_todays_name(tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    from tests.comparison import assert_same_outputs

    torch.manual_seed(0)
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing", num_labels=3).eval()
    model.save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    weights["head.root"] = weights.pop("head.root.weight")  # the layout before ROOT's vector became a module
    save_file(weights, tmp_path / "model.safetensors", metadata={"format": "pt"})
    reloaded = ArchitFactory.from_pretrained(str(tmp_path), task="dep_parsing")
    assert reloaded.loading_report.new == [] and reloaded.loading_report.unused == []
    assert torch.equal(reloaded.head.root.weight, model.head.root.weight)
    inputs = {"input_ids": torch.tensor([[2, 7, 9, 11, 3]]), "word_ids": torch.tensor([[-1, 0, 1, 1, -1]])}
    with torch.no_grad():
        assert_same_outputs(reloaded(**inputs).arc_logits, model(**inputs).arc_logits)
    reloaded.save_pretrained(tmp_path / "again")
    assert "head.root.weight" in load_file(tmp_path / "again" / "model.safetensors")
