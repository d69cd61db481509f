"""Real weights on real trees: MiniLM learns to parse a few dozen Turkish sentences, always into trees."""

from __future__ import annotations

import pytest
import torch

from archit.modeling import ArchitFactory
from archit.modeling.parsing import is_tree
from archit.simple.config import RunConfiguration
from archit.simple.data.parsing import DependencyParsingData
from archit.simple.data.tokenization import load_tokenizer
from archit.simple.demo import find_demo_model, find_demo_treebank
from archit.simple.formats.conllu import read_conllu

pytestmark = pytest.mark.slow  # real pretrained weights

N_SENTENCES = 16
MAX_WORDS = 12


def test_minilm_learns_turkish_trees() -> None:
    torch.manual_seed(0)
    sentences = [s for s in read_conllu(find_demo_treebank()) if len(s.forms) <= MAX_WORDS][:N_SENTENCES]
    examples = [{"words": list(sentence.forms), "sentence": sentence} for sentence in sentences]
    checkpoint = find_demo_model()
    config = RunConfiguration(task="dep_parsing", model_name_or_path=checkpoint)
    data = DependencyParsingData("dep_parsing", config, load_tokenizer(checkpoint))
    data.fit_labels(examples)
    model = ArchitFactory.from_pretrained(
        checkpoint, task="dep_parsing", num_labels=len(data.labels), arc_mlp_size=128, label_mlp_size=64
    )
    assert not [name for name in model.loading_report.new if not name.startswith("head.")]
    collate = data.collator(training=True)
    batches = [collate(data.featurize(examples[i : i + 8], training=True)) for i in range(0, N_SENTENCES, 8)]
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
