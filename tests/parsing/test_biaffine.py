"""Biaffine scorer, MLP and shared dropout: shapes, values, repr and initialisation."""

from __future__ import annotations

import pytest
import torch

from archit.errors import HeadConfigError
from archit.modeling.parsing import MLP, Biaffine, SharedDropout

BATCH_SIZE, SEQ_LEN, N_IN, N_RELS = 3, 7, 5, 4


def test_biaffine_scores_every_pair_like_the_explicit_formula() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(BATCH_SIZE, SEQ_LEN, N_IN), torch.randn(BATCH_SIZE, SEQ_LEN, N_IN)
    layer = Biaffine(N_IN, n_out=N_RELS)
    torch.nn.init.normal_(layer.weight)
    s = layer(x, y)
    assert s.shape == (BATCH_SIZE, N_RELS, SEQ_LEN, SEQ_LEN)
    x1, y1 = (
        torch.cat((x, torch.ones(BATCH_SIZE, SEQ_LEN, 1)), -1),
        torch.cat((y, torch.ones(BATCH_SIZE, SEQ_LEN, 1)), -1),
    )
    b, o, i, j = 1, 2, 3, 5
    assert s[b, o, i, j].item() == pytest.approx((x1[b, i] @ layer.weight[o] @ y1[b, j]).item(), rel=1e-5)


def test_biaffine_with_one_output_squeezes_and_scales() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(BATCH_SIZE, SEQ_LEN, N_IN), torch.randn(BATCH_SIZE, SEQ_LEN, N_IN)
    layer = Biaffine(N_IN, bias_x=False, bias_y=False, scale=0.5)
    torch.nn.init.normal_(layer.weight)
    s = layer(x, y)
    assert layer.weight.shape == (1, N_IN, N_IN)
    assert s.shape == (BATCH_SIZE, SEQ_LEN, SEQ_LEN)
    expected = torch.einsum("bid,de,bje->bij", x, layer.weight[0], y) / N_IN**0.5
    torch.testing.assert_close(s, expected)


def test_biaffine_repr_and_reset_parameters() -> None:
    assert repr(Biaffine(N_IN)) == "Biaffine(n_in=5)"
    assert repr(Biaffine(N_IN, n_out=3, bias_y=False, scale=1)) == "Biaffine(n_in=5, n_out=3, bias_y=False, scale=1)"
    layer = Biaffine(N_IN, n_out=2)
    assert layer.weight.shape == (2, N_IN + 1, N_IN + 1)
    torch.nn.init.normal_(layer.weight)
    layer.reset_parameters()
    assert layer.weight.eq(0).all()


def test_mlp_projects_and_initialises_orthogonally() -> None:
    mlp = MLP(N_IN, 3, dropout=0.25)
    assert repr(mlp) == "MLP(n_in=5, n_out=3, dropout=0.25)"
    assert repr(MLP(N_IN, 3, activation=False)) == "MLP(n_in=5, n_out=3, activation=False)"
    assert mlp(torch.randn(BATCH_SIZE, SEQ_LEN, N_IN)).shape == (BATCH_SIZE, SEQ_LEN, 3)
    weight = mlp.linear.weight
    torch.testing.assert_close(weight @ weight.T, torch.eye(3), atol=1e-5, rtol=0)
    assert mlp.linear.bias.eq(0).all()
    mlp.eval()
    x = torch.randn(2, SEQ_LEN, N_IN)
    torch.testing.assert_close(mlp(x), torch.nn.functional.leaky_relu(mlp.linear(x), 0.1))


def test_shared_dropout_drops_a_feature_for_the_whole_sequence() -> None:
    torch.manual_seed(0)
    dropout = SharedDropout(p=0.5)
    x = torch.ones(BATCH_SIZE, SEQ_LEN, 64)
    y = dropout(x)
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert y.eq(y[:, :1]).all()
    dropout.eval()
    assert dropout(x) is x
    assert repr(SharedDropout(0.1, batch_first=False)) == "SharedDropout(p=0.1, batch_first=False)"
    assert SharedDropout(0.5, batch_first=False)(x.transpose(0, 1)).eq(2.0).any()
    with pytest.raises(HeadConfigError, match="found 1.0"):
        SharedDropout(1.0)
