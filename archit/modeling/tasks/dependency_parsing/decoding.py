"""Tree decoding for first-order graph-based dependency parsers, on batches of score matrices.

Conventions (SuPar's): ``s_arc[b, i, j]`` is the score of head ``j`` for dependent ``i`` in sentence ``b``;
position 0 is the pseudo-word ROOT; ``mask[b, i]`` is true for the real words ``1 .. n_b`` of sentence ``b``
(position 0 and padding are false). Every function returns heads ``[batch_size, seq_len]`` with 0 at ROOT and
at padding positions.

``decode`` repairs only what is broken: it takes the argmax of each row and runs the exact algorithm only on
the sentences whose argmax is not a well-formed tree (for ``eisner``, not a projective one).

The MST decoder runs on the CPU through NumPy (a dependency of torch's ``Tensor.numpy`` and of transformers),
one sentence at a time; Eisner runs batched in torch on the device of the scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from archit.errors import DataError, HeadConfigError

__all__ = [
    "ALGORITHMS",
    "MIN",
    "chu_liu_edmonds",
    "decode",
    "decode_labels",
    "eisner",
    "find_cycle",
    "greedy",
    "head_mask",
    "is_projective",
    "is_tree",
    "is_well_formed",
    "lengths",
    "mst",
    "tree_score",
]

#: The score given to impossible arcs: finite, so that a fully masked row cannot give NaN.
MIN = -1e32

Algorithm = Literal["mst", "eisner", "greedy"]
ALGORITHMS: tuple[str, ...] = ("mst", "eisner", "greedy")


def _min_value(dtype: torch.dtype) -> float:
    """``MIN``, or the lowest finite value of ``dtype`` if ``MIN`` does not fit (float16)."""
    return max(MIN, torch.finfo(dtype).min)


def lengths(mask: torch.Tensor) -> torch.Tensor:
    """The number of words of each sentence, after checking that ``mask`` has the expected layout.

    Args:
        mask: ``[batch_size, seq_len]``, true at the words ``1 .. n`` of each sentence only.

    Returns:
        ``[batch_size]``, the sentence lengths ``n`` (ROOT excluded).

    Raises:
        DataError: if ``mask`` is not 2-D, is true at position 0 (ROOT) or is not one contiguous run from 1.
    """
    if mask.dim() != 2:
        raise DataError(f"The mask must have shape [batch_size, seq_len], found shape {tuple(mask.shape)}.")
    mask = mask.bool()
    lens = mask.sum(1)
    positions = torch.arange(mask.shape[1], device=mask.device)
    expected = positions.gt(0) & positions.le(lens.unsqueeze(1))
    if not torch.equal(mask, expected):
        raise DataError(
            "The mask must be false at position 0 (ROOT) and true exactly at positions 1..n of each sentence; "
            "found a mask that is true at ROOT or has gaps. Build it as `attention_mask` with position 0 set "
            "to False, or with `mask[:, 0] = False`."
        )
    return lens


def head_mask(mask: torch.Tensor) -> torch.Tensor:
    """The possible arcs: for each word, ROOT and the other words of its sentence.

    Args:
        mask: ``[batch_size, seq_len]``, true at real words.

    Returns:
        ``[batch_size, seq_len, seq_len]``, true where head ``j`` is possible for dependent ``i``.
    """
    heads = mask.clone()
    heads[:, 0] = True
    seq_len = mask.shape[1]
    not_self = ~torch.eye(seq_len, dtype=torch.bool, device=mask.device)
    # [batch_size, seq_len, seq_len]: dependent i is a word, head j is ROOT or a word, j != i
    return mask.unsqueeze(2) & heads.unsqueeze(1) & not_self


def greedy(s_arc: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The best head of each word independently: the argmax over ROOT and the other words of the sentence.

    The result need not be a tree: it may have several roots, none, or cycles (:func:`is_tree` tells).

    Args:
        s_arc: ``[batch_size, seq_len, seq_len]``, the score of head ``j`` for dependent ``i``.
        mask: ``[batch_size, seq_len]``, true at real words.

    Returns:
        ``[batch_size, seq_len]``, the head of each word, 0 at ROOT and padding.
    """
    mask = mask.bool()
    s_arc = s_arc.masked_fill(~head_mask(mask), _min_value(s_arc.dtype))
    return s_arc.argmax(-1).masked_fill(~mask, 0)


def tree_score(s_arc: torch.Tensor, heads: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The score of each tree: the sum of the scores of its arcs.

    Args:
        s_arc: ``[batch_size, seq_len, seq_len]``, the score of head ``j`` for dependent ``i``.
        heads: ``[batch_size, seq_len]``, the head of each word.
        mask: ``[batch_size, seq_len]``, true at real words.

    Returns:
        ``[batch_size]``.
    """
    mask = mask.bool()
    # [batch_size, seq_len]: score of the chosen arc of each word
    s = s_arc.gather(-1, heads.masked_fill(~mask, 0).unsqueeze(-1)).squeeze(-1)
    return s.masked_fill(~mask, 0).sum(-1)


def is_tree(heads: torch.Tensor, mask: torch.Tensor, single_root: bool = True) -> torch.Tensor:
    """Which head sequences are well-formed trees: heads in range, no cycle, one child of ROOT.

    Args:
        heads: ``[batch_size, seq_len]``, the head of each word.
        mask: ``[batch_size, seq_len]``, true at real words.
        single_root: require exactly one word attached to ROOT (else at least one).

    Returns:
        ``[batch_size]``, true for the sentences whose heads form a tree rooted at position 0.
    """
    mask = mask.bool()
    seq_len = mask.shape[1]
    lens = mask.sum(1, keepdim=True)
    heads = heads.masked_fill(~mask, 0)
    in_range = (heads.ge(0) & heads.le(lens)).all(1)
    n_roots = (heads.eq(0) & mask).sum(1)
    has_root = n_roots.eq(1) if single_root else n_roots.ge(1)
    # pointer doubling: after k steps, ancestors[i] is the 2^k-th ancestor of i; a word outside any cycle
    # reaches ROOT (which points to itself) within seq_len steps
    ancestors = heads.clamp(0, seq_len - 1)
    for _ in range(max(1, math.ceil(math.log2(seq_len)))):
        ancestors = ancestors.gather(1, ancestors)
    acyclic = ancestors.eq(0).all(1)
    return in_range & has_root & acyclic


def is_projective(heads: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Which head sequences have no crossing arcs (arcs from ROOT included).

    Args:
        heads: ``[batch_size, seq_len]``, the head of each word.
        mask: ``[batch_size, seq_len]``, true at real words.

    Returns:
        ``[batch_size]``, true for the sentences without crossing arcs.
    """
    mask = mask.bool()
    positions = torch.arange(heads.shape[1], device=heads.device)
    # [batch_size, seq_len]: left and right ends of the arc of each word
    left, right = heads.minimum(positions), heads.maximum(positions)
    # [batch_size, seq_len, seq_len]: arc i starts outside arc j and ends strictly inside it, or conversely
    crossing = (
        left.unsqueeze(2).lt(left.unsqueeze(1))
        & left.unsqueeze(1).lt(right.unsqueeze(2))
        & right.unsqueeze(2).lt(right.unsqueeze(1))
    )
    crossing &= mask.unsqueeze(2) & mask.unsqueeze(1)
    return ~crossing.flatten(1).any(1)


def find_cycle(heads: Sequence[int]) -> list[int] | None:
    """A cycle in a head sequence, if any.

    Args:
        heads: the head of each position, ``heads[0]`` being ROOT's (ignored); a head outside ``[0, len)``
            counts as attached nowhere.

    Returns:
        The positions on one cycle (a self-loop is a cycle of one), or ``None``.
    """
    n = len(heads)
    # 0: unseen, 1: on the current path, 2: known to reach ROOT or a dead end
    state = [0] * n
    state[0] = 2
    for start in range(1, n):
        path = []
        node = start
        while 0 <= node < n and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = heads[node]
        if 0 <= node < n and state[node] == 1:
            return path[path.index(node) :]
        for node in path:
            state[node] = 2
    return None


def is_well_formed(heads: Sequence[int], single_root: bool = True, projective: bool = False) -> bool:
    """Whether the heads of one sentence's words form a tree rooted at ROOT.

    Args:
        heads: the heads of words ``1 .. n`` (ROOT not included), each in ``[0, n]``.
        single_root: require exactly one word attached to ROOT (else at least one).
        projective: also require that no two arcs cross.

    Returns:
        Whether the sentence is a well-formed (and, if asked, projective) tree.
    """
    n = len(heads)
    if any(not 0 <= head <= n for head in heads):
        return False
    n_roots = sum(head == 0 for head in heads)
    if n_roots == 0 or (single_root and n_roots > 1):
        return False
    if find_cycle([0, *heads]) is not None:
        return False
    if projective:
        arcs = [(min(i, head), max(i, head)) for i, head in enumerate(heads, 1)]
        for left_i, right_i in arcs:
            for left_j, right_j in arcs:
                if left_i < left_j < right_i < right_j:
                    return False
    return True


def _chu_liu_edmonds(s: np.ndarray) -> np.ndarray:
    """The maximum spanning arborescence rooted at node 0 of a dense graph, by Chu & Liu (1965) and Edmonds
    (1967), with recursive cycle contraction as in McDonald et al. (2005).

    Args:
        s: ``[n, n]`` float64, the score of head ``j`` for dependent ``i``; ``s[0]`` and the diagonal MIN except
            ``s[0, 0] = 0``.

    Returns:
        ``[n]``, the head of each node (``heads[0] == 0``).
    """
    heads = s.argmax(1)
    cycle = find_cycle(heads.tolist())
    if cycle is None:
        return heads
    return _contract(s, heads, np.array(cycle))


def _single_root_mst(s: np.ndarray) -> np.ndarray:
    """The best tree with exactly one child of ROOT (modifies ``s``).

    Stanojevic & Cohen (2021), "A Root of a Problem": if the unconstrained MST has several root arcs, subtract
    from every root arc a constant larger than the score range of any tree; a tree with k root arcs then loses
    k times the constant, so the MST of the reweighted graph is the best single-root tree of the original.

    Args:
        s: ``[n, n]`` float64, prepared as for :func:`_chu_liu_edmonds`.

    Returns:
        ``[n]``, the head of each node (``heads[0] == 0``).
    """
    heads = _chu_liu_edmonds(s)
    if np.count_nonzero(heads[1:] == 0) <= 1:
        return heads
    # arcs masked with MIN by the caller stay impossible and do not count in the range
    possible = s[1:] > MIN / 2
    s_possible = s[1:][possible]
    penalty = 1.0 + (len(s) - 1) * (s_possible.max() - s_possible.min())
    roots = s[1:, 0] > MIN / 2
    s[1:, 0][roots] -= penalty
    return _chu_liu_edmonds(s)


def _contract(s: np.ndarray, heads: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    """Contract ``cycle`` into one node, solve the smaller graph, and expand its tree (Chu-Liu-Edmonds)."""
    in_cycle = np.zeros(len(s), dtype=bool)
    in_cycle[cycle] = True
    # ROOT is never on a cycle, so it stays at index 0 of the contracted graph
    noncycle = np.flatnonzero(~in_cycle)
    n_rest = len(noncycle)
    # [n_cycle]: scores of the cycle's own arcs
    s_cycle = s[cycle, heads[cycle]]
    # [n_rest, n_cycle]: s(c->x) = max_{x' in cycle} s(x'->x), the cycle as head of a non-cycle word x
    s_dep = s[np.ix_(noncycle, cycle)]
    deps = s_dep.argmax(1)
    # [n_cycle, n_rest]: s(x->c) = s(x->x') - s(a(x')->x') + s(cycle), entering the cycle at x' from x
    s_head = s[np.ix_(cycle, noncycle)] - s_cycle[:, None] + s_cycle.sum()
    entries = s_head.argmax(0)
    contracted = np.empty((n_rest + 1, n_rest + 1))
    contracted[:n_rest, :n_rest] = s[np.ix_(noncycle, noncycle)]
    contracted[:n_rest, n_rest] = s_dep[np.arange(n_rest), deps]
    contracted[n_rest, :n_rest] = s_head[entries, np.arange(n_rest)]
    contracted[n_rest, n_rest] = MIN
    contracted[0, n_rest] = MIN
    y = _chu_liu_edmonds(contracted)
    tree = heads.copy()
    # words whose head is outside the cycle keep it; words headed by the cycle take their best cycle node
    outside = y[:n_rest] < n_rest
    tree[noncycle[outside]] = noncycle[y[:n_rest][outside]]
    tree[noncycle[~outside]] = cycle[deps[~outside]]
    # break the cycle where its external head enters it
    tree[cycle[entries[y[n_rest]]]] = noncycle[y[n_rest]]
    return tree


def _solve_mst(s: np.ndarray, single_root: bool) -> np.ndarray:
    """Mask ROOT's row and self-loops of one sentence's scores ``[n + 1, n + 1]`` (in place) and decode them."""
    s[0] = MIN
    s[0, 0] = 0.0
    np.fill_diagonal(s[1:, 1:], MIN)
    return _single_root_mst(s) if single_root else _chu_liu_edmonds(s)


def chu_liu_edmonds(s_arc: torch.Tensor, single_root: bool = True) -> torch.Tensor:
    """The maximum spanning tree of one sentence (non-projective), rooted at position 0.

    Args:
        s_arc: ``[seq_len, seq_len]``, the score of head ``j`` for dependent ``i``; every position is a word
            except 0, ROOT.
        single_root: require exactly one child of ROOT; the result is then the best such tree (exact, by the
            reweighting of Stanojevic & Cohen, 2021), not the best unconstrained tree with extra roots moved.

    Returns:
        ``[seq_len]``, the head of each word, 0 at ROOT.
    """
    s = s_arc.detach().to("cpu", torch.float64).numpy().copy()
    return torch.from_numpy(_solve_mst(s, single_root)).to(s_arc.device)


def mst(s_arc: torch.Tensor, mask: torch.Tensor, single_root: bool = True) -> torch.Tensor:
    """The maximum spanning tree of each sentence (Chu-Liu-Edmonds, non-projective), always a tree.

    Args:
        s_arc: ``[batch_size, seq_len, seq_len]``, the score of head ``j`` for dependent ``i``.
        mask: ``[batch_size, seq_len]``, true at the words ``1 .. n`` of each sentence.
        single_root: require exactly one child of ROOT (the best such tree, exactly).

    Returns:
        ``[batch_size, seq_len]``, the head of each word, 0 at ROOT and padding.

    Raises:
        DataError: if ``mask`` does not mark the words ``1 .. n`` of each sentence.
    """
    lens = lengths(mask).tolist()
    scores = s_arc.detach().to("cpu", torch.float64).numpy()
    arc_preds = np.zeros(s_arc.shape[:2], dtype=np.int64)
    for b, n in enumerate(lens):
        if n > 0:
            arc_preds[b, : n + 1] = _solve_mst(scores[b, : n + 1, : n + 1].copy(), single_root)
    return torch.from_numpy(arc_preds).to(s_arc.device)


def _stripe(x: torch.Tensor, n: int, w: int, offset: tuple[int, int] = (0, 0), horizontal: bool = True) -> torch.Tensor:
    """A view ``[batch_size, n, w]`` of ``x`` ``[batch_size, seq_len, seq_len]`` (contiguous): row ``k`` holds
    ``w`` elements from ``(offset[0] + k, offset[1] + k)``, to the right if ``horizontal``, else downward."""
    seq_len = x.shape[1]
    return x.as_strided(
        size=(x.shape[0], n, w),
        stride=(seq_len * seq_len, seq_len + 1, 1 if horizontal else seq_len),
        storage_offset=x.storage_offset() + offset[0] * seq_len + offset[1],
    )


def _max(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x.max(-1)`` as ``amax`` and ``argmax``: on CPU, ``max`` with indices can go through a parallel region
    even for tiny inputs, which costs milliseconds per call on a loaded machine."""
    return x.amax(-1), x.argmax(-1)


def _eisner_charts(s_arc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fill Eisner's charts (Eisner, 1996, "Three new probabilistic models for dependency parsing").

    Span ``(i, j)``, ``i < j``, is stored at ``[i, j]`` when its head is ``i`` (right-facing) and at ``[j, i]``
    when its head is ``j`` (left-facing). ``C`` holds complete spans, ``I`` incomplete ones (whose arc between
    ``i`` and ``j`` is drawn); back-pointers hold the split point ``r``.

    Returns:
        The complete chart, its back-pointers and the back-pointers of the incomplete chart, each
        ``[batch_size, seq_len, seq_len]``.
    """
    batch_size, seq_len, _ = s_arc.shape
    # [batch_size, seq_len, seq_len]: s_head[b, h, d], score of the arc h->d
    s_head = s_arc.transpose(1, 2)
    s_i = s_arc.new_full((batch_size, seq_len, seq_len), _min_value(s_arc.dtype))
    s_c = s_arc.new_full((batch_size, seq_len, seq_len), _min_value(s_arc.dtype))
    s_c.diagonal(0, 1, 2).fill_(0)
    p_i = s_arc.new_zeros((batch_size, seq_len, seq_len), dtype=torch.long)
    p_c = s_arc.new_zeros((batch_size, seq_len, seq_len), dtype=torch.long)
    starts = torch.arange(seq_len, device=s_arc.device)
    for w in range(1, seq_len):
        n = seq_len - w
        # [batch_size, n, w]: C(i->r) + C(j->r+1), i <= r < j, j = i + w
        il = _stripe(s_c, n, w) + _stripe(s_c, n, w, (w, 1))
        il, split = _max(il)
        # INCOMPLETE-L: I(j->i) = max_r C(i->r) + C(j->r+1) + s(j->i)
        s_i.diagonal(-w, 1, 2).copy_(il + s_head.diagonal(-w, 1, 2))
        # INCOMPLETE-R: I(i->j) = max_r C(i->r) + C(j->r+1) + s(i->j)
        s_i.diagonal(w, 1, 2).copy_(il + s_head.diagonal(w, 1, 2))
        p_i.diagonal(w, 1, 2).copy_(split + starts[:n])
        # COMPLETE-L: C(j->i) = max_r C(r->i) + I(j->r), i <= r < j
        cl, split = _max(_stripe(s_c, n, w, (0, 0), False) + _stripe(s_i, n, w, (w, 0)))
        s_c.diagonal(-w, 1, 2).copy_(cl)
        p_c.diagonal(-w, 1, 2).copy_(split + starts[:n])
        # COMPLETE-R: C(i->j) = max_r I(i->r) + C(r->j), i < r <= j
        cr, split = _max(_stripe(s_i, n, w, (0, 1)) + _stripe(s_c, n, w, (1, w), False))
        s_c.diagonal(w, 1, 2).copy_(cr)
        p_c.diagonal(w, 1, 2).copy_(split + starts[:n] + 1)
    return s_c, p_c, p_i


def _backtrack(p_c: np.ndarray, p_i: np.ndarray, spans: list[tuple[int, int, int]], n: int) -> list[int]:
    """Read the heads of one sentence off Eisner's back-pointers, from the given top spans.

    Args:
        p_c: ``[seq_len, seq_len]``, split points of complete spans.
        p_i: ``[seq_len, seq_len]``, split points of incomplete spans (at ``[i, j]``, ``i < j``).
        spans: ``(i, j, kind)`` with kind 0: C(i->j), 1: C(j->i), 2: I(i->j), 3: I(j->i).
        n: the number of words.

    Returns:
        The heads of positions ``0 .. n``.
    """
    heads = [0] * (n + 1)
    while spans:
        i, j, kind = spans.pop()
        if i == j:
            continue
        if kind == 0:
            r = int(p_c[i, j])
            spans += [(i, r, 2), (r, j, 0)]
        elif kind == 1:
            r = int(p_c[j, i])
            spans += [(i, r, 1), (r, j, 3)]
        else:
            if kind == 2:
                heads[j] = i
            else:
                heads[i] = j
            r = int(p_i[i, j])
            spans += [(i, r, 0), (r + 1, j, 1)]
    return heads


def eisner(s_arc: torch.Tensor, mask: torch.Tensor, single_root: bool = True) -> torch.Tensor:
    """The best projective tree of each sentence (Eisner, 1996), batched: O(seq_len^3) on the scores' device.

    The charts are filled in float32 (float64 scores stay float64): half-precision sums of arc scores would lose
    the differences between trees, and MIN + MIN overflows to ``-inf`` in float16.

    Args:
        s_arc: ``[batch_size, seq_len, seq_len]``, the score of head ``j`` for dependent ``i``.
        mask: ``[batch_size, seq_len]``, true at the words ``1 .. n`` of each sentence.
        single_root: require exactly one child of ROOT.

    Returns:
        ``[batch_size, seq_len]``, the head of each word, 0 at ROOT and padding.

    Raises:
        DataError: if ``mask`` does not mark the words ``1 .. n`` of each sentence.
    """
    lens = lengths(mask)
    batch_size, seq_len, _ = s_arc.shape
    arc_preds = torch.zeros((batch_size, seq_len), dtype=torch.long)
    if seq_len < 2:
        return arc_preds.to(s_arc.device)
    s_arc = s_arc.detach().to(torch.promote_types(s_arc.dtype, torch.float32))
    with torch.no_grad():
        s_c, p_c, p_i = _eisner_charts(s_arc)
        if single_root:
            # [batch_size, seq_len]: ROOT's only child r spans 1..n: C(r->1) + C(r->n) + s(0->r)
            s_root = s_c[:, :, 1] + s_c.gather(2, lens.view(-1, 1, 1).expand(-1, seq_len, 1)).squeeze(2)
            s_root = (s_root + s_arc[:, :, 0]).cpu().numpy()
    p_c, p_i = p_c.cpu().numpy(), p_i.cpu().numpy()
    for b, n in enumerate(lens.tolist()):
        if n == 0:
            continue
        if single_root:
            # the words left of ROOT's child r hang from C(r->1), the words right of it from C(r->n)
            root = 1 + int(s_root[b, 1 : n + 1].argmax())
            spans = [(1, root, 1), (root, n, 0)]
        else:
            spans = [(0, n, 0)]
        heads = _backtrack(p_c[b], p_i[b], spans, n)
        arc_preds[b, : n + 1] = torch.tensor(heads)
    return arc_preds.to(s_arc.device)


def decode(
    s_arc: torch.Tensor, mask: torch.Tensor, algorithm: Algorithm = "mst", single_root: bool = True
) -> torch.Tensor:
    """Heads from arc scores: the argmax where it is already a tree, an exact decoder elsewhere.

    Args:
        s_arc: ``[batch_size, seq_len, seq_len]``, the score of head ``j`` for dependent ``i``.
        mask: ``[batch_size, seq_len]``, true at the words ``1 .. n`` of each sentence.
        algorithm: ``"mst"`` (best tree, non-projective), ``"eisner"`` (best projective tree) or ``"greedy"``
            (the plain argmax of :func:`greedy`, which need not be a tree).
        single_root: require exactly one child of ROOT (``mst`` and ``eisner``).

    Returns:
        ``[batch_size, seq_len]`` (long), the head of each word, 0 at ROOT and padding.

    Raises:
        HeadConfigError: if ``algorithm`` is not one of ``"mst"``, ``"eisner"``, ``"greedy"``.
        DataError: if ``mask`` does not mark the words ``1 .. n`` of each sentence.
    """
    if algorithm not in ALGORITHMS:
        raise HeadConfigError(f"Unknown decoding algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}.")
    mask = mask.bool()
    lengths(mask)
    arc_preds = greedy(s_arc, mask)
    if algorithm == "greedy":
        return arc_preds
    bad = ~is_tree(arc_preds, mask, single_root)
    if algorithm == "eisner":
        bad |= ~is_projective(arc_preds, mask)
    if bad.any():
        exact = mst if algorithm == "mst" else eisner
        arc_preds[bad] = exact(s_arc[bad], mask[bad], single_root)
    return arc_preds


def decode_labels(s_rel: torch.Tensor, arc_preds: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The best label of each word's predicted arc.

    Args:
        s_rel: ``[batch_size, seq_len, seq_len, n_rels]``, the score of each label on the arc ``j -> i``.
        arc_preds: ``[batch_size, seq_len]``, the head of each word.
        mask: ``[batch_size, seq_len]``, true at real words; elsewhere the label is 0.

    Returns:
        ``[batch_size, seq_len]`` (long), ``rel_preds``.
    """
    n_rels = s_rel.shape[-1]
    index = arc_preds.clamp(0, s_rel.shape[2] - 1)[:, :, None, None].expand(-1, -1, 1, n_rels)
    # [batch_size, seq_len, n_rels]: label scores on the predicted arc of each word
    s_rel = s_rel.gather(2, index).squeeze(2)
    rel_preds = s_rel.argmax(-1)
    return rel_preds if mask is None else rel_preds.masked_fill(~mask.bool(), 0)
