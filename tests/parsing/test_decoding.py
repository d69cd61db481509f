"""Tree decoding: exactness against brute force, well-formedness on random scores, batching and masking."""

from __future__ import annotations

import functools
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from archit.errors import DataError, HeadConfigError
from archit.modeling.parsing import (
    MIN,
    chu_liu_edmonds,
    decode,
    decode_labels,
    eisner,
    find_cycle,
    greedy,
    is_projective,
    is_tree,
    is_well_formed,
    mst,
    tree_score,
)


def _reaches_root(heads: tuple[int, ...]) -> bool:
    """Independent tree check for brute force: every word reaches ROOT (0) in at most n steps."""
    for word in range(1, len(heads) + 1):
        node = word
        for _ in range(len(heads)):
            node = heads[node - 1]
            if node == 0:
                break
        if node != 0:
            return False
    return True


def _crosses(heads: tuple[int, ...]) -> bool:
    arcs = [(min(d, h), max(d, h)) for d, h in enumerate(heads, 1)]
    return any(a < c < b < e for a, b in arcs for c, e in arcs)


@functools.cache
def _all_trees(n: int, single_root: bool, projective: bool) -> torch.Tensor:
    """Every tree over n words as heads of words 1..n: ``[n_trees, n]``."""
    trees = [
        heads
        for heads in itertools.product(range(n + 1), repeat=n)
        if all(h != d for d, h in enumerate(heads, 1))
        and _reaches_root(heads)
        and (not single_root or heads.count(0) == 1)
        and not (projective and _crosses(heads))
    ]
    return torch.tensor(trees)


def _best_score(s_arc: torch.Tensor, single_root: bool, projective: bool) -> float:
    """The best tree score of one sentence ``[n + 1, n + 1]`` by enumeration."""
    n = s_arc.shape[0] - 1
    trees = _all_trees(n, single_root, projective)
    return s_arc[torch.arange(1, n + 1), trees].sum(-1).max().item()


def _mask(lens: list[int], seq_len: int | None = None) -> torch.Tensor:
    seq_len = seq_len or max(lens) + 1
    positions = torch.arange(seq_len)
    return positions.gt(0) & positions.le(torch.tensor(lens).unsqueeze(1))


# ties (small integers) and arbitrary reals both occur
score = st.one_of(st.integers(-3, 3).map(float), st.floats(-10, 10, allow_nan=False, width=32))


@st.composite
def small_sentence(draw) -> torch.Tensor:
    n = draw(st.integers(1, 5))
    values = draw(st.lists(score, min_size=(n + 1) ** 2, max_size=(n + 1) ** 2))
    return torch.tensor(values).view(1, n + 1, n + 1)


@st.composite
def random_batch(draw, max_len: int = 25) -> tuple[torch.Tensor, torch.Tensor]:
    lens = draw(st.lists(st.integers(0, max_len), min_size=1, max_size=6))
    seed = draw(st.integers(0, 2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    mask = _mask(lens, max(lens) + 2)
    s_arc = torch.randn(len(lens), mask.shape[1], mask.shape[1], generator=generator) * draw(st.sampled_from([1, 10]))
    if draw(st.booleans()):
        s_arc = s_arc.round()
    return s_arc, mask


@pytest.mark.parametrize("single_root", [True, False])
@settings(max_examples=150, deadline=None)
@given(s_arc=small_sentence())
def test_mst_is_the_best_tree(s_arc: torch.Tensor, single_root: bool) -> None:
    mask = _mask([s_arc.shape[1] - 1])
    heads = mst(s_arc, mask, single_root=single_root)
    assert is_tree(heads, mask, single_root=single_root).all()
    best = _best_score(s_arc[0], single_root, projective=False)
    assert tree_score(s_arc, heads, mask).item() == pytest.approx(best, abs=1e-4)


@pytest.mark.parametrize("single_root", [True, False])
@settings(max_examples=150, deadline=None)
@given(s_arc=small_sentence())
def test_eisner_is_the_best_projective_tree(s_arc: torch.Tensor, single_root: bool) -> None:
    mask = _mask([s_arc.shape[1] - 1])
    heads = eisner(s_arc, mask, single_root=single_root)
    assert is_tree(heads, mask, single_root=single_root).all()
    assert is_projective(heads, mask).all()
    best = _best_score(s_arc[0], single_root, projective=True)
    assert tree_score(s_arc, heads, mask).item() == pytest.approx(best, abs=1e-4)


@settings(max_examples=60, deadline=None)
@given(batch=random_batch())
def test_mst_and_eisner_always_give_single_root_trees(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    s_arc, mask = batch
    nonempty = mask.any(1)
    for heads in (mst(s_arc, mask), eisner(s_arc, mask), decode(s_arc, mask, "mst"), decode(s_arc, mask, "eisner")):
        assert heads.dtype == torch.long
        assert is_tree(heads, mask)[nonempty].all()
        assert heads[~mask].eq(0).all()
        for b in range(len(heads)):
            assert is_well_formed(heads[b, 1 : int(mask[b].sum()) + 1].tolist()) or not nonempty[b]
    assert is_projective(eisner(s_arc, mask), mask).all()
    assert is_projective(decode(s_arc, mask, "eisner"), mask).all()


@settings(max_examples=40, deadline=None)
@given(batch=random_batch(max_len=12))
def test_mixed_lengths_decode_like_single_sentences(batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    s_arc, mask = batch
    for algorithm in ("mst", "eisner"):
        heads = decode(s_arc, mask, algorithm)
        scores = tree_score(s_arc, heads, mask)
        for b, n in enumerate(mask.sum(1).tolist()):
            s_alone, mask_alone = s_arc[b : b + 1, : n + 1, : n + 1], mask[b : b + 1, : n + 1]
            alone = decode(s_alone, mask_alone, algorithm)
            assert scores[b].item() == pytest.approx(tree_score(s_alone, alone, mask_alone).item())


def test_decode_keeps_the_argmax_where_it_is_already_a_tree() -> None:
    # sentence 0: argmax 0->2->1, 2->3 is a projective tree; sentence 1: argmax has two roots
    s_arc = torch.full((2, 4, 4), -5.0)
    s_arc[0, 1, 2] = s_arc[0, 2, 0] = s_arc[0, 3, 2] = 5.0
    s_arc[1, 1, 0] = s_arc[1, 2, 0] = s_arc[1, 3, 1] = 5.0
    s_arc[1, 2, 1] = 4.0
    mask = _mask([3, 3])
    for algorithm in ("mst", "eisner"):
        heads = decode(s_arc, mask, algorithm)
        assert heads.tolist() == [[0, 2, 0, 2], [0, 0, 1, 1]]
    assert decode(s_arc, mask, "greedy").tolist() == [[0, 2, 0, 2], [0, 0, 0, 1]]


def test_greedy_is_the_plain_argmax_and_may_not_be_a_tree() -> None:
    s_arc = torch.zeros(1, 4, 4)
    s_arc[0, 1, 2] = s_arc[0, 2, 1] = s_arc[0, 3, 0] = 1.0
    s_arc[0, 1, 1] = 9.0  # self-loops are never chosen
    mask = _mask([3])
    heads = greedy(s_arc, mask)
    assert heads.tolist() == [[0, 2, 1, 0]]
    assert not is_tree(heads, mask).item()
    assert is_tree(decode(s_arc, mask, "mst"), mask).item()


def test_eisner_repairs_a_non_projective_argmax_tree() -> None:
    # argmax 0->2, 2->4, 4->1, 2->3 is a tree whose arcs (0,2) and (1,4) cross
    s_arc = torch.full((1, 5, 5), -1.0)
    s_arc[0, 2, 0] = s_arc[0, 4, 2] = s_arc[0, 1, 4] = s_arc[0, 3, 2] = 3.0
    mask = _mask([4])
    assert is_tree(greedy(s_arc, mask), mask).item() and not is_projective(greedy(s_arc, mask), mask).item()
    assert decode(s_arc, mask, "mst").tolist() == [[0, 4, 0, 2, 2]]
    heads = decode(s_arc, mask, "eisner")
    assert is_projective(heads, mask).item() and is_tree(heads, mask).item()


def test_chu_liu_edmonds_on_one_sentence_matches_the_batched_mst() -> None:
    s_arc = torch.randn(1, 8, 8, generator=torch.Generator().manual_seed(3))
    heads = chu_liu_edmonds(s_arc[0])
    assert heads.shape == (8,) and heads[0].item() == 0
    assert heads.tolist() == mst(s_arc, _mask([7]))[0].tolist()
    unconstrained = chu_liu_edmonds(s_arc[0], single_root=False)
    assert tree_score(s_arc, unconstrained[None], _mask([7])) >= tree_score(s_arc, heads[None], _mask([7]))


def test_empty_sentences_and_masked_scores_give_no_nan() -> None:
    s_arc = torch.full((2, 4, 4), MIN)
    s_arc[1, 1:, 0] = 1.0
    mask = _mask([0, 3])
    for algorithm in ("mst", "eisner", "greedy"):
        heads = decode(s_arc, mask, algorithm)
        assert heads[0].eq(0).all()
        assert heads[1, 1:].eq(0).sum() >= 1
    assert not torch.isnan(tree_score(s_arc, decode(s_arc, mask), mask)).any()


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_decoders_accept_other_float_types(dtype: torch.dtype) -> None:
    s_arc = torch.randn(3, 6, 6, generator=torch.Generator().manual_seed(0))
    mask = _mask([5, 3, 1], 6)
    expected = {algorithm: decode(s_arc, mask, algorithm) for algorithm in ("mst", "eisner")}
    for algorithm in ("mst", "eisner"):
        heads = decode(s_arc.to(dtype), mask, algorithm)
        assert is_tree(heads, mask).all()
        if dtype == torch.float64:
            assert heads.tolist() == expected[algorithm].tolist()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_eisner_on_half_precision_scores_gives_the_trees_of_float32(dtype: torch.dtype) -> None:
    """The charts sum up to n scores: in half precision the sums lose the differences between trees (here sums
    near 8000, where float16 steps by 4), and the minimum of masked arcs doubles to -inf in float16; Eisner
    fills them in float32."""
    generator = torch.Generator().manual_seed(0)
    lens = [40, 33, 12, 1]
    s_arc = (200 + 10 * torch.randn(len(lens), 41, 41, generator=generator)).to(dtype)
    mask = _mask(lens, 41)
    # the arcs a model masks: padding and self-loops at the lowest finite value of the dtype
    s_arc = s_arc.masked_fill(~mask.unsqueeze(1) & torch.arange(41).gt(0), torch.finfo(dtype).min)
    for single_root in (True, False):
        heads = eisner(s_arc, mask, single_root)
        assert heads.tolist() == eisner(s_arc.float(), mask, single_root).tolist()
        assert is_tree(heads, mask, single_root).all() and is_projective(heads, mask).all()


def test_decode_rejects_bad_arguments() -> None:
    s_arc = torch.zeros(1, 3, 3)
    with pytest.raises(HeadConfigError, match="mst, eisner, greedy"):
        decode(s_arc, _mask([2]), "cky")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="position 0"):
        decode(s_arc, torch.ones(1, 3, dtype=torch.bool))
    with pytest.raises(DataError, match="gaps"):
        mst(s_arc, torch.tensor([[False, False, True]]))


def test_is_tree_and_is_projective_on_hand_made_cases() -> None:
    mask = _mask([4, 4, 4, 4, 4, 2], 5)
    heads = torch.tensor(
        [
            [0, 2, 0, 2, 3],  # tree, projective
            [0, 0, 0, 2, 3],  # two roots
            [0, 2, 3, 2, 0],  # cycle 2 <-> 3
            [0, 3, 0, 2, 1],  # tree, arcs (0,2) and (1,3) cross
            [0, 2, 0, 2, 7],  # head out of range
            [0, 2, 0, 1, 1],  # padding heads are ignored
        ]
    )
    assert is_tree(heads, mask).tolist() == [True, False, False, True, False, True]
    assert is_tree(heads, mask, single_root=False).tolist() == [True, True, False, True, False, True]
    assert is_projective(heads, mask).tolist()[:4] == [True, True, True, False]


def test_find_cycle_and_is_well_formed() -> None:
    assert find_cycle([0, 2, 0, 2]) is None
    assert sorted(find_cycle([0, 2, 3, 1])) == [1, 2, 3]
    assert find_cycle([0, 1]) == [1]
    assert is_well_formed([2, 0, 2])
    assert not is_well_formed([0, 0, 2])
    assert is_well_formed([0, 0, 2], single_root=False)
    assert not is_well_formed([2, 1, 0])
    assert not is_well_formed([2, 0, 4])
    assert not is_well_formed([3, 0, 2, 1], projective=True)
    assert is_well_formed([3, 0, 2, 1])


def test_decode_labels_reads_labels_at_the_predicted_arcs() -> None:
    s_rel = torch.zeros(1, 3, 3, 4)
    s_rel[0, 1, 2, 3] = 1.0  # label 3 on 2 -> 1
    s_rel[0, 1, 0, 1] = 2.0  # label 1 on 0 -> 1, not the predicted arc
    s_rel[0, 2, 0, 2] = 1.0  # label 2 on 0 -> 2
    arc_preds = torch.tensor([[0, 2, 0]])
    assert decode_labels(s_rel, arc_preds, _mask([2])).tolist() == [[0, 3, 2]]
