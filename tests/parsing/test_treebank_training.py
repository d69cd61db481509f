"""Real weights on real trees: MiniLM learns to parse a few dozen Turkish sentences, always into trees."""

from __future__ import annotations

import torch

from archit.modeling import ArchitFactory
from archit.modeling.parsing import is_tree
from archit.simple.data.conllu import LabelVocabulary, read_conllu
from archit.simple.data.tokenization import encode_words, load_tokenizer
from archit.simple.run import find_demo_model, find_demo_treebank

N_SENTENCES = 16
MAX_WORDS = 12


def _batch(tokenizer, sentences, vocabulary: LabelVocabulary) -> dict[str, torch.Tensor]:
    features = [encode_words(tokenizer, list(sentence.forms), 10_000) for sentence in sentences]
    seq_len = max(len(inputs["input_ids"]) for inputs, _ in features)
    n_words = max(len(sentence.forms) for sentence in sentences)
    batch = {name: torch.zeros(len(sentences), seq_len, dtype=torch.long) for name in ("input_ids", "attention_mask")}
    batch["word_ids"] = torch.full((len(sentences), seq_len), -1)
    batch["arc_labels"] = torch.full((len(sentences), n_words), -100)
    batch["rel_labels"] = torch.full((len(sentences), n_words), -100)
    for row, ((inputs, word_ids), sentence) in enumerate(zip(features, sentences, strict=True)):
        length = len(inputs["input_ids"])
        batch["input_ids"][row, :length] = torch.tensor(inputs["input_ids"])
        batch["attention_mask"][row, :length] = 1
        batch["word_ids"][row, :length] = torch.tensor([-1 if word is None else word for word in word_ids])
        batch["arc_labels"][row, : len(sentence.heads)] = torch.tensor(sentence.heads)
        batch["rel_labels"][row, : len(sentence.heads)] = torch.tensor(vocabulary.encode(sentence.deprels))
    return batch


def test_minilm_learns_turkish_trees() -> None:
    torch.manual_seed(0)
    sentences = [s for s in read_conllu(find_demo_treebank()) if len(s.forms) <= MAX_WORDS][:N_SENTENCES]
    vocabulary = LabelVocabulary.from_sentences(sentences)
    checkpoint = find_demo_model()
    tokenizer = load_tokenizer(checkpoint)
    model = ArchitFactory.from_pretrained(
        checkpoint, task="dep_parsing", num_labels=len(vocabulary.labels), arc_mlp_size=128, label_mlp_size=64
    )
    assert not [name for name in model.loading_report.new if not name.startswith("head.")]
    batches = [_batch(tokenizer, sentences[i : i + 8], vocabulary) for i in range(0, N_SENTENCES, 8)]
    # the usual fine-tuning split: a gentle rate for pretrained weights, a fast one for the new head
    optimizer = torch.optim.AdamW(
        [
            {"params": model.backbone.parameters(), "lr": 1e-4},
            {"params": model.head.parameters(), "lr": 3e-3},
        ]
    )
    losses = []
    model.train()
    for _ in range(8):
        for batch in batches:
            optimizer.zero_grad()
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert sum(losses[-2:]) < 0.5 * sum(losses[:2])

    model.eval()
    with torch.no_grad():
        for batch in batches:
            output = model(**{key: value for key, value in batch.items() if "labels" not in key})
            mask = batch["arc_labels"].ne(-100)
            root = torch.zeros_like(mask[:, :1])
            heads = torch.cat((torch.zeros_like(output.arc_predictions[:, :1]), output.arc_predictions), 1)
            assert is_tree(heads, torch.cat((root, mask), 1)).all()
