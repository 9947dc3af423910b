"""RTL co-simulation of decode tops (cocotb + Verilator): one token a step, the caches in RAM inside the
design, the position kept by the design. A session of tokens fills the caches, runs past max_length
(the token is refused: TUSER overflow, zeros, nothing changes), starts a new sequence with TUSER reset
over stale cache rows, and every output equals the reference decode session bit for bit, under idle input
cycles and output back-pressure; measured latency and II are within 10% of the estimate. The decoder
holds every decode block: MHA, grouped-query attention with RoPE, latent attention with a RoPE key in its
absorbed form (latent and RoPE-key caches, block-diagonal W_UK^T and W_UV, exact latent context), and a
second output taken from the token directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli
from test_cosim import _check, _lint
from test_rtl import needs_verilator

from hlsgen.backends.rtl import RtlOptions
from hlsgen.backends.rtl.cosim import cosim_decode, decode_session
from hlsgen.backends.rtl.design import build_decode_design
from hlsgen.ir.graph import input_raw

pytestmark = [pytest.mark.verilator, pytest.mark.tensorflow, needs_verilator]

T, D, L = 6, 8, 5


def _session(design, n_fill: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """Tokens 0 .. L-1 fill the caches, tokens L and L+1 are refused (the position must stay at L), then
    a new sequence of two tokens (the second one over stale rows), then a third sequence of one token."""
    rng = np.random.default_rng(seed)
    t = design.graph.tensors[design.token]
    n = n_fill + 5
    x = rng.normal(size=(n, 1, t.shape[-1]))
    resets = [0] * n
    resets[n_fill + 2] = 1
    resets[n_fill + 4] = 1
    return input_raw(x, t.type), resets


def _mha_decoder():
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention, MultiHeadLatentAttention

    tf.keras.utils.set_random_seed(31)
    x = tf.keras.Input((T, D), name="tokens")
    h = tf.keras.layers.Dense(D, name="embed")(x)
    a = tf.keras.layers.MultiHeadAttention(2, 4, name="mha")(h, h, use_causal_mask=True)
    h = tf.keras.layers.Add(name="res")([h, a])
    h = tf.keras.layers.LayerNormalization(name="norm")(h)
    h = GroupedQueryAttention(4, 2, 2, rope_dim=2, name="gqa")(h)
    h = MultiHeadLatentAttention(2, 4, 6, rope_dim=2, name="mla")(h)
    y = tf.keras.layers.Dense(4, name="head")(h)
    aux = tf.keras.layers.Dense(3, name="aux")(x)  # a second output, ready long before the first
    return tf.keras.Model(x, [y, aux], name="decoder")


CFG = {
    "project_name": "mha_dec",
    "default_precision": "ap_fixed<12,5,AP_RND_CONV,AP_SAT>",
    "decode": {"max_length": L, "mla_form": "absorbed"},
}
OPTS = RtlOptions(max_par=8)


@pytest.mark.xdist_group("rtl_decode_mha")
def test_decode_session(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.decode import decode_design

    proj = hlsgen.convert(_mha_decoder(), CFG)
    d = decode_design(proj)
    kinds = {op.kind for op in d.graph.ops}
    assert {"kv_cache", "latent_cache", "position_mask", "rope", "scores", "latent_scores"} <= kinds
    assert {"block_linear", "exact_linear", "exact_context"} <= kinds  # the absorbed MLA form
    rtl = build_decode_design(d, "mha_dec_decode", OPTS)
    tokens, resets = _session(d, L, 3)
    ref = decode_session(d, tokens, resets)
    assert ref["overflow"] == [0] * L + [1, 1, 0, 0, 0]
    assert len(d.graph.outputs) == 2 and len(rtl.outputs) == 2  # one overflow flag FIFO per output
    out = d.graph.outputs[0]
    no_reset = decode_session(d, tokens, [0] * len(resets))  # the resets change what the reference wants
    assert not np.array_equal(no_reset["expected"][out], ref["expected"][out])
    res = cosim_decode(d, "mha_dec_decode", tokens, resets, tmp_path, OPTS)
    _check(res, rtl, "MHA + GQA (RoPE) + MLA (RoPE, absorbed) decode, L 5 (PAR 8)")
    _lint(tmp_path / "rtl", rtl)


@pytest.mark.xdist_group("rtl_decode_recompute")
def test_decode_cosim_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``hlsgen cosim PROJECT --decode`` and the project's ``make cosim-decode`` check replay the project's
    test vectors as a decode session (each sample a new sequence; its sixth token is past max_length 5 and
    refused), here with latent attention in its recompute form (the cached latents up-projected at every
    step); both commands share one build."""
    pytest.importorskip("tensorflow")
    import hlsgen

    model = _mha_decoder()
    src = tmp_path / "mha_dec.keras"
    model.save(src)
    x = np.random.default_rng(4).normal(size=(2, T, D))
    prj = tmp_path / "prj"
    cfg = {**CFG, "decode": {"max_length": L, "mla_form": "recompute"}}
    hlsgen.convert(src, cfg).write(prj, tb_data=x, model_source=src)
    code, out, err = run_cli(capsys, "cosim", str(prj), "--decode", "--max-par", "8")
    print(out)
    assert code == 0, out + err
    assert "12 tokens in 2 sequences of at most 5" in out
    assert "bit-exact against the reference in every run" in out
    # beside a prefill run's cosim.xml (written by hlsgen cosim without --decode), which it leaves alone
    assert (prj / "reports" / "junit" / "cosim_decode.xml").is_file()
    assert not (prj / "reports" / "junit" / "cosim.xml").exists()

    # the project's one-command check runs the decode cosim for a causal model
    from hlsgen.commands.check import default_stages

    assert default_stages(hlsgen.Project.load(prj)) == ["csim", "cosim", "cosim_decode"]
    assert "--stages cosim_decode" in (prj / "Makefile").read_text()
    code, out, err = run_cli(
        capsys, str(prj), "--stages", "cosim_decode", "--max-par", "8", module="hlsgen.commands.check"
    )
    print(out)
    assert code == 0, out + err
    assert "cosim of mha_dec_decode: 12 tokens x 4 runs, bit-exact" in out
    assert (prj / "reports" / "junit" / "cosim_decode.xml").is_file()


def _one_layer(max_length: int):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(7)
    x = tf.keras.Input((4, 4), name="tokens")
    a = tf.keras.layers.MultiHeadAttention(1, 4, name="mha")(x, x, use_causal_mask=True)
    return tf.keras.Model(x, a, name=f"one_layer_l{max_length}")


@pytest.mark.parametrize("max_length", [1, 4])
def test_cache_edges(tmp_path: Path, max_length: int) -> None:
    """A cache of one row (one-bit counters) and of a power of two (the read counter wraps)."""
    pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.decode import decode_design

    cfg = {"project_name": f"l{max_length}", "default_precision": "ap_fixed<10,4>"}
    d = decode_design(hlsgen.convert(_one_layer(max_length), cfg), max_length=max_length)
    tokens, resets = _session(d, max_length, 5)
    rtl = build_decode_design(d, f"l{max_length}_decode", OPTS)
    res = cosim_decode(d, f"l{max_length}_decode", tokens, resets, tmp_path, OPTS)
    assert res.passed, res.failure_message()
    if max_length >= 3:  # the II needs three tokens of one sequence
        _check(res, rtl, f"one MHA layer, L {max_length}")


def _gqa(max_length: int):
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention

    tf.keras.utils.set_random_seed(11)
    x = tf.keras.Input((4, 8), name="tokens")
    a = GroupedQueryAttention(4, 2, 4, name="gqa")(x)
    return tf.keras.Model(x, a, name=f"gqa_l{max_length}")


@pytest.mark.parametrize(("max_length", "ram_min_rows"), [(6, None), (12, 4)])
def test_caches_read_in_place(tmp_path: Path, max_length: int, ram_min_rows: int | None) -> None:
    """GQA (4 heads over 2 key/value heads): the scores and context engines read the K and V cache rows
    in place (hlsgen_kv_cache LINK, PE / SIMD lanes), with no bank of their own and one token a step
    between cache and reader. Register arrays (ram_min_rows None) and, at 4, the Q bank, the output rows
    and the softmax rows in memories (the context reads its probabilities in place too); every step bit-exact,
    under idle cycles and back-pressure; latency and cycles a step equal the estimate, both fewer than
    in the stream form (at 32 multipliers the engines outpace L rows a step; at L 12 the scores' PE 12
    lanes hold one row each)."""
    pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.decode import decode_design

    opts = RtlOptions(max_par=32, ram_min_rows=ram_min_rows)
    name = f"gqa_l{max_length}"
    cfg = {"project_name": name, "default_precision": "ap_fixed<10,4>"}
    d = decode_design(hlsgen.convert(_gqa(max_length), cfg), max_length=max_length)
    rtl = build_decode_design(d, f"{name}_decode", opts)
    by_kind = {b.kind: b for b in rtl.blocks}
    caches = [b for b in rtl.blocks if b.kind == "kv_cache"]
    assert len(caches) == 2 and all(c.params["LINK"] == 1 for c in caches)
    sc, cx = by_kind["scores"], by_kind["context"]
    assert sc.params["KLINK"] == 1 and cx.params["VLINK"] == 1 and sc.params["HKV"] == 2
    assert {c.params["LANES"] for c in caches} == {sc.params["PE"], cx.params["SIMD"]}
    assert rtl.streams[caches[0].output].rows == 1  # a token a step, not L rows
    assert bool(cx.params.get("PGRP")) == (ram_min_rows is not None)
    tokens, resets = _session(d, max_length, 9)
    res = cosim_decode(d, f"{name}_decode", tokens, resets, tmp_path, opts)
    _check(res, rtl, f"GQA decode, caches read in place, L {max_length}")
    assert (res.latency, res.ii) == (rtl.estimate.latency, rtl.estimate.ii)
    # the stream form (the cache streams its L rows every step, L + 1 cycles): slower at this parallelism
    stream_opts = RtlOptions(max_par=32, ram_min_rows=ram_min_rows, caches_in_place=False)
    stream = build_decode_design(d, f"{name}_stream", stream_opts)
    assert not any(b.params.get("LINK") for b in stream.blocks)
    assert rtl.estimate.ii < stream.estimate.ii and rtl.estimate.latency < stream.estimate.latency
    _lint(tmp_path / "rtl", rtl)
