"""A run's head may learn at its own rate, with the Trainer's weight-decay groups."""

from __future__ import annotations

from transformers import TrainingArguments

from archit.modeling import ArchitFactory
from archit.simple.training import ArchitTrainer, head_aware_optimizer
from tests.tiny_configs import tiny_config


def _names(model, group) -> set[str]:
    ids = {id(parameter) for parameter in group["params"]}
    return {name for name, parameter in model.named_parameters() if id(parameter) in ids}


def test_head_learning_rate_gives_the_head_its_own_groups(tmp_path) -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing")
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, weight_decay=0.01, report_to="none")
    decay = [name for name in dict(model.named_parameters()) if not name.endswith("bias") and "LayerNorm" not in name]
    optimizer = head_aware_optimizer(model, args, 2e-3, decay)
    groups = [(group["lr"], group["weight_decay"], _names(model, group)) for group in optimizer.param_groups]
    assert [(lr, weight_decay) for lr, weight_decay, _ in groups] == [
        (1e-4, 0.01),
        (1e-4, 0.0),
        (2e-3, 0.01),
        (2e-3, 0.0),
    ]
    (_, _, backbone_decayed), (_, _, backbone_kept), (_, _, head_decayed), (_, _, head_kept) = groups
    assert {name for name in head_decayed | head_kept} == {
        name for name, _ in model.named_parameters() if name.startswith("head.")
    }
    assert backbone_decayed | head_decayed == set(decay)
    assert all(name.endswith("bias") or "LayerNorm" in name for name in backbone_kept | head_kept)
    assert len(backbone_decayed | backbone_kept | head_decayed | head_kept) == len(list(model.named_parameters()))


def test_the_trainer_decays_what_its_default_optimizer_decays(tmp_path) -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="token_classification")
    args = TrainingArguments(output_dir=str(tmp_path), weight_decay=0.1, report_to="none")
    trainer = ArchitTrainer(model=model, args=args, task_data=None, head_learning_rate=1e-3)
    optimizer = trainer.create_optimizer()
    decayed = set().union(*(_names(model, group) for group in optimizer.param_groups if group["weight_decay"] > 0))
    assert decayed == set(trainer.get_decay_parameter_names(model))
    assert not [name for name in decayed if name.endswith("bias") or "LayerNorm" in name]
    assert (
        "bert.embeddings.LayerNorm.weight" not in decayed
        and "bert.encoder.layer.0.attention.self.query.weight" in decayed
    )
    default = ArchitTrainer(model=model, args=args, task_data=None).create_optimizer()
    assert [group["weight_decay"] for group in default.param_groups] == [0.1, 0.0]  # the Trainer's own
