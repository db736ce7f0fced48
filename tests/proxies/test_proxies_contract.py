"""Contract of every registered proxy: declarations, the model left unchanged, failures as values."""
from __future__ import annotations

import math

import pytest
import torch

from nwot.errors import NwotError
from nwot.proxies import Direction, Proxy, Status, get_proxy, list_proxies, score_proxies
from nwot.proxies.base import MODES, Needs
from tests._proxy_nets import NanNet, TinyNet, tiny_batch

NAMES = list_proxies()
#: The 24 per-cell proxies of issue 16 (NAS-Bench-Suite-Zero's 13 with nwot as naswot, and the newer ones).
EXPECTED = {"epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "naswot", "params", "plain",
            "snip", "synflow", "zen", "zico", "meco", "swap", "az_nas_expressivity", "az_nas_progressivity",
            "az_nas_trainability", "az_nas_complexity", "vkdnw", "vkdnw_dim", "te_nas_ntk", "te_nas_lr"}


def test_registry_holds_every_proxy_of_the_issue():
    assert set(NAMES) == EXPECTED


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(NwotError) as e:
        get_proxy("snipp")
    assert "snipp" in str(e.value) and "snip" in str(e.value) and "synflow" in str(e.value)
    with pytest.raises(NwotError):
        score_proxies(TinyNet, tiny_batch(), "snip,nope")


@pytest.mark.parametrize("name", NAMES)
def test_declarations(name):
    p = get_proxy(name)
    assert isinstance(p, Proxy) and p.name == name
    assert isinstance(p.direction, Direction)
    assert p.paper is not None and p.paper.arxiv and p.paper.venue and p.paper.section
    assert p.equation and p.equation.split("=")[0].strip()  # an equation, also in the docstring
    assert p.__doc__ and len(p.__doc__) > 200
    assert "clean" in p.modes and set(p.modes) <= set(MODES)
    for m in p.modes:
        n = p.needs_for(m)
        assert isinstance(n, Needs)
        assert n.input in ("images", "ones", "gaussian", "none") and n.dtype in ("float32", "float64")
        assert n.input == "none" or n.batch_size is not None
        assert not n.labels or n.gradients  # labels are only used through a loss
        cfg = p.config_id(m)
        assert cfg.startswith(f"{name}[mode={m},") and "v=" in cfg


def _state(model):
    return ({k: v.detach().clone() for k, v in model.state_dict().items()},
            {n: m.training for n, m in model.named_modules()},
            {n: p.grad for n, p in model.named_parameters()},
            {n: p.requires_grad for n, p in model.named_parameters()})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", MODES)
def test_model_unchanged_and_result_is_a_value(name, mode):
    from nwot.proxies.context import ScoringContext

    ctx = ScoringContext(TinyNet, tiny_batch(), seed=3)
    shared = ctx.model  # the copy every proxy reads; fresh copies (synflow's |θ|, re-inits) may be altered
    ref = TinyNet()
    res = score_proxies(TinyNet, tiny_batch(), [name], mode=mode, context=ctx)[name]
    assert res.status in (Status.OK, Status.NAN, Status.SINGULAR, Status.NO_PATH)
    assert res.config == get_proxy(name).config_id(get_proxy(name).resolve_mode(mode))
    assert isinstance(res.value, float)
    sd, flags, grads, req = _state(shared)
    rsd, rflags, _, rreq = _state(ref)
    assert all(torch.equal(sd[k], rsd[k]) for k in rsd), f"{name} changed the model's state"
    assert flags == rflags and req == rreq
    assert all(g is None for g in grads.values()), f"{name} left .grad on the model"


@pytest.mark.parametrize("name", NAMES)
def test_failure_is_recorded_as_a_value_never_zero(name):
    res = score_proxies(NanNet, tiny_batch(), [name])[name]
    p = get_proxy(name)
    if p.needs.input == "none" or name in ("synflow", "zen", "vkdnw_dim"):
        return  # data-free proxies / proxies that re-initialise or take |θ| do not see the NaN weights' effect
    assert res.status is not Status.OK, f"{name} scored NaN weights as ok: {res}"
    assert res.value != 0 and (math.isnan(res.value) or math.isinf(res.value))
    assert res.reason


def test_one_failing_proxy_keeps_the_others():
    res = score_proxies(NanNet, tiny_batch(), ["params", "snip", "jacov", "flops"])
    assert res["params"].ok and res["params"].value == 16.0
    assert res["flops"].ok
    assert not res["snip"].ok and not res["jacov"].ok


def test_batch_size_override_only_where_allowed():
    p = get_proxy("snip")
    p.set_batch_size(4)
    assert p.batch_size == 4 and ",bs=4," in p.config_id("clean")
    for name in ("zico", "meco", "params", "vkdnw"):
        with pytest.raises(NwotError):
            get_proxy(name).set_batch_size(8)


def test_too_small_batch_is_an_error_value():
    res = score_proxies(TinyNet, tiny_batch(n=8), ["naswot", "zico"])  # they want 128 images
    assert res["naswot"].status is Status.ERROR and "128" in res["naswot"].reason
    assert math.isnan(res["zico"].value)


def test_batch_checks():
    from nwot.proxies import Batch

    with pytest.raises(NwotError):
        Batch(torch.zeros(3, 4))
    with pytest.raises(NwotError):
        Batch(torch.zeros(2, 3, 4, 4), torch.tensor([0, 5]), 3)
