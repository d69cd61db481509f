"""Unit tests of the compiler's working objects: the walk's Frame, a Statement's re-fill lines, the Planner."""

from __future__ import annotations

import inspect

import pytest
from torch import nn

from archit.declaration.frame import Frame, Statement
from archit.declaration.planning import ClassPlan, Planner
from archit.declaration.recording import InitArguments
from archit.declaration.rendering import Imports
from archit.errors import DeclarationError
from tests.declaration.modules import TinyNet


def test_frame_of_a_class_sees_its_arguments_and_the_submodules_of_its_reference() -> None:
    instance, reference = TinyNet(), TinyNet()
    arguments = InitArguments(inspect.signature(TinyNet), {"dim": 8, "depth": 3})
    frame = Frame.of_class(instance, reference, arguments, "encoder")
    assert (frame.target, frame.path, frame.statements, frame.changes) == ("self", "encoder", [], [])
    assert frame.scope.values == {"dim": 8, "depth": 3} and frame.scope.values is not arguments.values
    assert frame.scope.module is reference
    assert frame.scope.lookup(reference.norm) == "self.norm"
    assert Frame.of_class(instance, reference, None, "").scope.values == {}


def test_child_frames_write_into_the_init_of_the_enclosing_class() -> None:
    instance, reference = TinyNet(), TinyNet()
    frame = Frame.of_class(instance, reference, None, "")
    blocks = frame.child("blocks", instance.blocks, reference.blocks)
    block = blocks.child("1", instance.blocks[1], reference.blocks[1])
    heads = frame.child("heads", instance.heads, reference.heads)
    assert (blocks.target, blocks.path) == ("self.blocks", "blocks")
    assert (block.target, block.path, block.instance) == ("self.blocks[1]", "blocks.1", instance.blocks[1])
    assert heads.where("tag").read() == 'self.heads["tag"]'
    assert block.member_path("0") == "blocks.1.0" and block.describe() == "Sequential at 'blocks.1'"
    block.emit("del self.blocks[1][1]")
    heads.emit('self.heads["tag"] = nn.Identity()', ("refill",))
    assert frame.statements == [
        Statement("del self.blocks[1][1]"),
        Statement('self.heads["tag"] = nn.Identity()', ("refill",)),
    ]
    assert block.statements is frame.statements and block.changes is frame.changes
    assert block.scope is frame.scope


def test_fill_lines_are_the_refill_lines_of_the_statements_in_order() -> None:
    statements = [Statement("a = 1"), Statement("b", ("if x:", "    x.copy_(1)")), Statement("c", ("y.copy_(2)",))]
    plan = ClassPlan(nn.Linear, "", "LinearModified", statements, [])
    assert plan.fills == ["if x:", "    x.copy_(1)", "y.copy_(2)"]
    plan.statements.append(Statement("self.a.weight = self.b.weight"))
    assert plan.fills == ["if x:", "    x.copy_(1)", "y.copy_(2)"]
    assert ClassPlan(nn.Linear, "", "LinearModified", [Statement("a = 1")], []).fills == []


def _changed(instance: nn.Module, path: str, *codes: str) -> Frame:
    frame = Frame.of_class(instance, instance, None, path)
    for code in codes:
        frame.emit(code)
    return frame


def test_planner_shares_a_class_between_equal_changes_and_numbers_new_names() -> None:
    imports = Imports()
    planner = Planner(imports, "Modified")
    first = planner.plan(_changed(nn.Linear(2, 2), "a", "self.x = 1"))
    same = planner.plan(_changed(nn.Linear(3, 3), "b", "self.x = 1"))
    other = planner.plan(_changed(nn.Linear(2, 2), "c", "self.x = 2"))
    assert same is first and first.path == "a"
    assert [p.name for p in planner.plans] == ["LinearModified", "LinearModified2"]
    assert other is planner.plans[1] and imports.is_taken("LinearModified2")
    top = planner.plan(_changed(nn.Linear(2, 2), "", "self.x = 1"), top_name="LinearTop")
    assert top is not first and top.name == "LinearTop" and planner.plans[-1] is top
    assert "from torch import nn" in imports.render()


def test_planner_empty_top_is_planned_last_with_nothing_declared() -> None:
    planner = Planner(Imports(), "Modified")
    top = planner.empty_top(TinyNet, "TinyNetModified")
    assert (top.base, top.path, top.name, top.statements, top.changes) == (TinyNet, "", "TinyNetModified", [], [])
    assert planner.plans == [top]


class _SelfNamed(nn.Module):
    def __init__(self, super: int = 1) -> None:
        nn.Module.__init__(self)


def test_planner_refuses_a_base_whose_init_takes_super() -> None:
    planner = Planner(Imports(), "Modified")
    with pytest.raises(DeclarationError, match="_SelfNamed.__init__ has a parameter named 'super'"):
        planner.plan(_changed(_SelfNamed(), "x", "self.y = 1"))
