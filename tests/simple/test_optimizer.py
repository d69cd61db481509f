"""A run's head may learn at its own rate."""

from __future__ import annotations

from archit.modeling import ArchitFactory
from archit.simple.config import RunConfiguration
from archit.simple.run import head_aware_optimizer
from tests.families import tiny_config


def test_head_learning_rate_gives_the_head_its_own_group() -> None:
    model = ArchitFactory.from_config(tiny_config("BERT"), task="dep_parsing")
    config = RunConfiguration(task="dep_parsing", model_name_or_path="unused", learning_rate=1e-4)
    assert head_aware_optimizer(model, config) is None
    config = RunConfiguration(
        task="dep_parsing", model_name_or_path="unused", learning_rate=1e-4, head_learning_rate=2e-3
    )
    optimizer = head_aware_optimizer(model, config)
    backbone_group, head_group = optimizer.param_groups
    assert (backbone_group["lr"], head_group["lr"]) == (1e-4, 2e-3)
    head_parameters = {id(parameter) for parameter in model.head.parameters()}
    assert {id(parameter) for parameter in head_group["params"]} == head_parameters
    assert len(backbone_group["params"]) + len(head_group["params"]) == len(list(model.parameters()))
