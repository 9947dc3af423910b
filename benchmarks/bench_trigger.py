"""Trigger-scale models in the latency strategy (hlsgen.backends.rtl.unrolled, .latency): adders, LUTs, LUT
levels, latency in cycles and ns, beside published trigger figures.

What the first table covers: the PER-PARTICLE Dense layers of a Deep-Sets-style jet tagger only (P
particles x 3 features -> Dense 16 + ReLU -> Dense 16, applied to every particle in parallel; one sample =
all P particles a beat, II = 1), with the ReLU folded away (not built here), so NOT a whole model; the
second and third tables are whole models (the third with attention). The published figures cover whole
models (one-head attention, 16 particles: HGQ2 + da4ml 98 ns / 279k LUT, arXiv:2510.24784
Table 1; patch attention, 64 particles: PHAT-JeT 96.6 ns / 167k LUT, arXiv:2605.21789).

Weights: a small Keras-free stand-in for QKeras 8-bit training (normal weights quantized to
ap_fixed<8,2> with ~30 % zeros, inputs ap_fixed<8,3>); the adders depend on the weights, so trained
weights will differ. LUT figures: the adder graph's estimate for all sizes; with ``--yosys`` also Yosys
``synth_xilinx`` of one particle's layer (LUT / FF / DSP, LUT levels and the estimated clock from the
delay model of hlsgen.backends.rtl.logic_depth), scaled by P (the rows are independent copies).

The second table is the WHOLE Deep-Sets tagger through the latency strategy's graph path
(hlsgen.backends.rtl.latency.plan_graph: per-particle Dense 16 + ReLU, Dense 16 + ReLU, mean pooling
over the particles, a Dense 5 head; one pipeline, the stages balanced): cycles, ns and the LUT estimate,
and with ``--yosys`` Yosys of its AXI4-Stream top for ``--yosys-particles`` (default 8; the 16-particle
top takes longer).

The third table is a LAYER-NORMED tagger (hlsgen.backends.rtl.latency_ops): per particle Dense 16,
LayerNorm, Dense 16 + ReLU, a residual Add, LayerNorm, then mean pooling and a Dense 5 head; the layer
norms' squares and 1/sqrt products on LUTs (partial products), the 1/sqrt table (8 segments x 32 entries)
as a LUT ROM per particle, gamma / beta as shift-adds: plan figures (cycles, ns, LUT / FF estimates, 0 DSP),
and with ``--yosys`` Yosys of its 1-particle top (a check of the LUT estimate; the estimate scales
with the particles).

The fourth table is a TRUE-ATTENTION jet tagger, the published models' architecture: per particle a Dense
8 embedding + ReLU, one-head self-attention (Q, K, V projections to key_dim 4, scores Q K^T / 2, the
stable softmax over the particles, context P V, output projection to 8), mean pooling, a Dense 5 head;
8-bit activations (ap_fixed<8,3>), 8-bit weights, trigger tables (NARROW: probabilities ap_ufixed<4,0>,
exp and 1/sum ap_ufixed<6,1>, 6-bit reciprocal address; one row with 8-bit tables beside them), every
product on LUTs (multiplier lut), and its accuracy against its float64 forward pass.
Plan figures (hlsgen.backends.rtl.latency.plan_graph: stages, cycles, ns at the clock target, the
estimated clock of the slowest stage, LUT / FF estimates, DSPs) beside the published 98 ns / 279k LUT;
``--yosys-attention P`` also synthesises the P-particle attention top with Yosys, its core cut into stage
ranges (``--parts N``; default about 40k estimated LUTs a part), each part its own Yosys process, two at
a time (hlsgen.backends.rtl.split): a line per part as it ends, then the sums, the wall and CPU time of
the Yosys processes and the load. The weights are random (30 % zeros), so trained weights give other
adder counts.

``--stages P`` (default 16) then lists where the stages of the P-particle attention tagger go: per op,
the stages its values are computed in, its casts and their estimated delay, its slowest value, and where
the LUTs and flip-flops go (the op's LUT estimate, its pipeline registers).

Run: ``python benchmarks/bench_trigger.py [--yosys] [--clock 3.333] [--yosys-particles 8]
[--yosys-attention 16] [--parts 8] [--stages 16]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from hlsgen.backends.rtl.unrolled import plan_linear, write_rtl
from hlsgen.config import Config
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Activation, Context, GlobalAvgPool, Linear, Scores, Softmax
from hlsgen.project import quantize_graph

PUBLISHED = [
    ("HGQ2 + da4ml, 1-head MHA, 16 particles (whole model)", 98.0, 279_000),
    ("PHAT-JeT patch attention, 64 particles (whole model)", 96.6, 167_000),
]


def _layer(name: str, n_in: int, n_out: int, rows: int, rng: np.random.Generator, tx: str) -> Linear:
    g = Graph(name)
    x = g.add_tensor("x", (rows, n_in))
    y = g.add_tensor("y", (rows, n_out))
    g.inputs, g.outputs = [x], [y]
    k = rng.normal(scale=0.5, size=(n_in, n_out))
    k[rng.random(k.shape) < 0.3] = 0.0
    g.add_op(Linear(name, [x], [y], kernel=k, bias=rng.normal(scale=0.1, size=n_out)))
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<8,3,AP_RND,AP_SAT>",
            "layers": {name: {"weight": "ap_fixed<8,2>", "bias": "ap_fixed<8,2>"}},
        }
    )
    op = quantize_graph(g, cfg).ops[0]
    return op


def tagger(particles: int, clock: float, seed: int = 0) -> tuple[Graph, Config]:
    """The whole Deep-Sets tagger as a typed graph and its latency-strategy config."""
    rng = np.random.default_rng(seed)
    g = Graph(f"tagger{particles}")
    x = g.add_tensor("x", (particles, 3))
    g.inputs = [x]
    prev, n_prev = x, 3
    for k in (1, 2):
        h = g.add_tensor(f"h{k}", (particles, 16))
        w = rng.normal(scale=0.5, size=(n_prev, 16))
        w[rng.random(w.shape) < 0.3] = 0.0
        g.add_op(Linear(f"dense{k}", [prev], [h], kernel=w, bias=rng.normal(scale=0.1, size=16)))
        r = g.add_tensor(f"r{k}", (particles, 16))
        g.add_op(Activation(f"relu{k}", [h], [r], function="relu"))
        prev, n_prev = r, 16
    p = g.add_tensor("pool", (16,))
    g.add_op(GlobalAvgPool("pool", [prev], [p]))
    o = g.add_tensor("o", (5,))
    g.add_op(Linear("head", [p], [o], kernel=rng.normal(scale=0.5, size=(16, 5))))
    g.outputs = [o]
    wq = {"weight": "ap_fixed<8,2>", "bias": "ap_fixed<8,2>"}
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<8,3,AP_RND,AP_SAT>",
            "strategy": "latency",
            "multiplier": "lut",
            "clock_period": clock,
            "layers": {"dense1": wq, "dense2": wq, "head": wq},
        }
    )
    return quantize_graph(g, cfg), cfg


#: the layer norms of the layer-normed tagger: a 1/sqrt table of 8 x 32 entries, trigger widths
LAYERNORM = {
    "table_bits": 5,
    "var_type": "ap_ufixed<12,5,AP_RND,AP_SAT>",
    "inv_sqrt_type": "ap_ufixed<10,1,AP_RND,AP_SAT>",
    "norm_type": "ap_fixed<10,4,AP_RND,AP_SAT>",
}


def layernorm_tagger(
    particles: int, clock: float, seed: int = 0, norm_multiplier: str = "lut"
) -> tuple[Graph, Config]:
    """Dense 16, LayerNorm, Dense 16 + ReLU, residual Add, LayerNorm per particle; mean pool; Dense 5."""
    from hlsgen.ir.ops import Add
    from hlsgen.ir.ops.layernorm import LayerNorm

    rng = np.random.default_rng(seed)
    g = Graph(f"lntagger{particles}")
    x = g.add_tensor("x", (particles, 3))
    g.inputs = [x]

    def dense(name: str, src: str, n_in: int, n_out: int, shape: tuple[int, ...]) -> str:
        w = rng.normal(scale=0.5, size=(n_in, n_out))
        w[rng.random(w.shape) < 0.3] = 0.0
        y = g.add_tensor(name, shape)
        g.add_op(Linear(name, [src], [y], kernel=w, bias=rng.normal(scale=0.1, size=n_out)))
        return y

    def norm(name: str, src: str) -> str:
        y = g.add_tensor(name, (particles, 16))
        g.add_op(
            LayerNorm(name, [src], [y], gamma=rng.normal(1, 0.3, size=16), beta=rng.normal(0, 0.3, size=16))
        )
        return y

    e = dense("embed", x, 3, 16, (particles, 16))
    n1 = norm("norm1", e)
    f = dense("ffn", n1, 16, 16, (particles, 16))
    r = g.add_tensor("relu", (particles, 16))
    g.add_op(Activation("relu", [f], [r], function="relu"))
    s = g.add_tensor("res", (particles, 16))
    g.add_op(Add("res", [e, r], [s]))
    n2 = norm("norm2", s)
    p = g.add_tensor("pool", (16,))
    g.add_op(GlobalAvgPool("pool", [n2], [p]))
    o = dense("head", p, 16, 5, (5,))
    g.outputs = [o]
    wq = {"weight": "ap_fixed<8,2>", "bias": "ap_fixed<8,2>"}
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<8,3,AP_RND,AP_SAT>",
            "strategy": "latency",
            "multiplier": "lut",
            "clock_period": clock,
            "layernorm": LAYERNORM,
            "layers": {
                **{n: wq for n in ("embed", "ffn", "head")},
                **{n: {**wq, "multiplier": norm_multiplier} for n in ("norm1", "norm2")},
            },
        }
    )
    return quantize_graph(g, cfg), cfg


def layernormed(clock: float, yosys: bool) -> None:
    """The table of the layer-normed tagger (plan figures; Yosys of the 1-particle top when asked)."""
    from hlsgen.backends.rtl.latency import build_latency_design, plan_graph, source_order, top_files

    print()
    print(
        "layer-normed tagger (Dense 16, LayerNorm, Dense 16 + ReLU, residual Add, LayerNorm per particle; "
        "mean pool; Dense 5), one pipeline:"
    )
    print(
        f"{'particles':>9} {'adders':>7} {'DSP':>4} {'LUT est':>8} {'FF est':>7} {'stages':>6} {'cycles':>6} "
        f"{'ns @ target':>11} {'plan Fmax':>9}"
    )
    for p in (16, 32, 64):
        g, cfg = layernorm_tagger(p, clock)
        t0 = time.perf_counter()
        u = plan_graph(g, cfg)
        print(
            f"{p:>9} {u.adders:>7} {u.multipliers:>4} {u.lut_estimate:>8} {u.registers:>7} {u.stages:>6} "
            f"{u.latency:>6} {u.latency * clock:>11.1f} {u.fmax_mhz:>5.0f} MHz  "
            f"(plan {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    g, cfg = layernorm_tagger(16, clock, norm_multiplier="dsp")
    u = plan_graph(g, cfg)
    print(
        f"{16:>9} {u.adders:>7} {u.multipliers:>4} {u.lut_estimate:>8} {u.registers:>7} {u.stages:>6} "
        f"{u.latency:>6} {u.latency * clock:>11.1f} {u.fmax_mhz:>5.0f} MHz  (the layer norms' products on DSPs)"
    )
    if yosys:
        from hlsgen.backends.rtl.yosys import synthesize

        g, cfg = layernorm_tagger(1, clock)
        design = build_latency_design(g, cfg, g.name)
        with tempfile.TemporaryDirectory() as d:
            for name, text in top_files(design).items():
                with open(f"{d}/{name}", "w") as f:
                    f.write(text)
            t0 = time.perf_counter()
            c = synthesize(d, source_order(design), design.top, depth=True)
            dt = time.perf_counter() - t0
        u = design.core
        print(
            f"        1 particle: plan LUT {u.lut_estimate}, FF {u.registers}; Yosys synth_xilinx LUT {c.lut}, "
            f"FF {c.ff}, DSP {c.dsp}; {c.depth.deepest.lut_levels} LUT levels, est. Fmax "
            f"{c.depth.fmax_mhz:.0f} MHz (yosys {dt:.0f} s)"
        )


def whole_model(clock: float, yosys_particles: int | None) -> None:
    """The table of the whole tagger (plan figures; Yosys of one size when asked)."""
    from hlsgen.backends.rtl.latency import build_latency_design, plan_graph, source_order, top_files

    print()
    print("whole tagger (Dense 16 + ReLU, Dense 16 + ReLU per particle, mean pool, Dense 5), one pipeline:")
    print(
        f"{'particles':>9} {'adders':>7} {'LUT est':>8} {'FF est':>7} {'stages':>6} {'cycles':>6} "
        f"{'ns @ target':>11} {'plan Fmax':>9}  yosys LUT/FF/DSP, est. Fmax"
    )
    for p in (16, 32, 64):
        g, cfg = tagger(p, clock)
        t0 = time.perf_counter()
        u = plan_graph(g, cfg)
        line = (
            f"{p:>9} {u.adders:>7} {u.lut_estimate:>8} {u.registers:>7} {u.stages:>6} {u.latency:>6} "
            f"{u.latency * clock:>11.1f} {u.fmax_mhz:>5.0f} MHz  (plan {time.perf_counter() - t0:.0f} s)"
        )
        print(line, flush=True)
    if yosys_particles:
        from hlsgen.backends.rtl.yosys import synthesize

        g, cfg = tagger(yosys_particles, clock)
        design = build_latency_design(g, cfg, g.name)
        with tempfile.TemporaryDirectory() as d:
            for name, text in top_files(design).items():
                with open(f"{d}/{name}", "w") as f:
                    f.write(text)
            t0 = time.perf_counter()
            c = synthesize(d, source_order(design), design.top, depth=True)
            dt = time.perf_counter() - t0
        u = design.core
        print(
            f"{yosys_particles:>9} particles, Yosys synth_xilinx of the whole top: LUT {c.lut}, FF {c.ff}, DSP "
            f"{c.dsp}; {c.depth.deepest.lut_levels} LUT levels, est. Fmax {c.depth.fmax_mhz:.0f} MHz -> "
            f"{u.latency} cycles = {u.latency * 1000 / c.depth.fmax_mhz:.1f} ns (yosys {dt:.0f} s)"
        )


#: the trigger tables of the attention tagger (``narrow``): probabilities ap_ufixed<4,0> (two 2-bit digits
#: select the context's rows of P V instead of four), exponential and reciprocal entries ap_ufixed<6,1>
NARROW = {"probability": 4, "exp": 6, "inv": 6}


def attention_tagger(
    particles: int,
    clock: float,
    bits: int = 8,
    embed: int = 8,
    key_dim: int = 4,
    seed: int = 0,
    narrow: bool = True,
):
    """The true-attention tagger (see the module docstring) as a typed graph and its config; ``bits`` the
    width of activations and weights; probabilities and softmax tables are ``bits`` wide too unless
    ``narrow`` (the trigger tables of :data:`NARROW`, the bench's tagger)."""
    rng = np.random.default_rng(seed)
    g = Graph(f"attn{particles}")
    x = g.add_tensor("x", (particles, 3))
    g.inputs = [x]

    def dense(name: str, src: str, n_in: int, n_out: int) -> str:
        y = g.add_tensor(name, (particles, n_out))
        w = rng.normal(scale=0.5, size=(n_in, n_out))
        w[rng.random(w.shape) < 0.3] = 0.0
        g.add_op(Linear(name, [src], [y], kernel=w, bias=rng.normal(scale=0.1, size=n_out)))
        return y

    h = dense("embed", x, 3, embed)
    r = g.add_tensor("r", (particles, embed))
    g.add_op(Activation("relu", [h], [r], function="relu"))
    q, k, v = (dense(n, r, embed, key_dim) for n in ("query", "key", "value"))
    s = g.add_tensor("s", (1, particles, particles))
    g.add_op(Scores("scores", [q, k], [s], num_heads=1, num_kv_heads=1, key_dim=key_dim))
    p = g.add_tensor("p", (1, particles, particles))
    g.add_op(Softmax("softmax", [s], [p]))
    c = g.add_tensor("c", (particles, key_dim))
    g.add_op(Context("context", [p, v], [c], num_heads=1, num_kv_heads=1, value_dim=key_dim))
    o = dense("out", c, key_dim, embed)
    pool = g.add_tensor("pool", (embed,))
    g.add_op(GlobalAvgPool("pool", [o], [pool]))
    y = g.add_tensor("y", (5,))
    g.add_op(Linear("head", [pool], [y], kernel=rng.normal(scale=0.5, size=(embed, 5))))
    g.outputs = [y]
    wq = {"weight": f"ap_fixed<{bits},2>", "bias": f"ap_fixed<{bits},2>"}
    pb, eb, ib = (NARROW["probability"], NARROW["exp"], NARROW["inv"]) if narrow else (bits, bits, bits)
    cfg = Config.from_dict(
        {
            "default_precision": f"ap_fixed<{bits},3,AP_RND,AP_SAT>",
            "strategy": "latency",
            "multiplier": "lut",
            "clock_period": clock,
            "softmax": {
                "exp_type": f"ap_ufixed<{eb},1,AP_RND,AP_SAT>",
                "sum_type": f"ap_ufixed<{bits + 4},5,AP_RND,AP_SAT>",
                "inv_bits": 6,
                "inv_type": f"ap_ufixed<{ib},1,AP_RND,AP_SAT>",
            },
            "layers": {
                **{n: wq for n in ("embed", "query", "key", "value", "out", "head")},
                "softmax": {"probability": f"ap_ufixed<{pb},0,AP_RND,AP_SAT>"},
            },
        }
    )
    return quantize_graph(g, cfg), cfg


#: the narrow tables' bound against float64: class agreement at most this much below the 8-bit tables'
AGREE_SLACK = 0.01
#: and a mean |error| of the logits at most this factor of the 8-bit tables'
ERROR_FACTOR = 1.10


def accuracy(particles: int, clock: float, jets: int = 2000, seed: int = 7) -> bool:
    """The tagger's bit-exact outputs against its float64 forward pass (same weights) on random jets, with
    the 8-bit tables and with the narrow ones: class (argmax) agreement and mean |error| of the logits;
    prints them and whether the narrow tables keep within the bound (:data:`AGREE_SLACK`,
    :data:`ERROR_FACTOR`)."""
    x = np.random.default_rng(seed).normal(scale=1.5, size=(jets, particles, 3))
    found = {}
    for narrow in (False, True):
        g, _ = attention_tagger(particles, clock, narrow=narrow)
        f = g.run_float([x])[g.outputs[0]]
        q = g.predict([x])[0]
        found[narrow] = (float(np.mean(f.argmax(-1) == q.argmax(-1))), float(np.mean(np.abs(f - q))))
    (a8, e8), (an, en) = found[False], found[True]
    ok = an >= a8 - AGREE_SLACK and en <= ERROR_FACTOR * e8
    print(
        f"  accuracy vs float64, {particles} particles, {jets} random jets: class agreement {a8:.3f} (8-bit "
        f"tables) / {an:.3f} (narrow), mean |logit error| {e8:.4f} / {en:.4f}; narrow within the bound "
        f"(agreement >= 8-bit - {AGREE_SLACK}, error <= {ERROR_FACTOR} x 8-bit): {'yes' if ok else 'NO'}"
    )
    return ok


def attention_model(clock: float, yosys_particles: int | None, parts: int | None = None) -> None:
    """The table of the true-attention tagger (plan figures; Yosys of one small size when asked)."""
    from hlsgen.backends.rtl.latency import build_latency_design, plan_graph, top_files

    print()
    print(
        "true-attention tagger (Dense 8 + ReLU per particle, one-head MHA key_dim 4, mean pool, Dense 5), "
        "one pipeline at II = 1:"
    )
    print(
        f"{'particles':>9} {'bits':>4} {'tables':>6} {'adders':>7} {'LUT est':>8} {'FF est':>7} {'DSP':>4} "
        f"{'stages':>6} {'cycles':>6} {'ns @ target':>11} {'plan Fmax':>9}"
    )
    for p, bits, narrow in (
        (8, 8, True),
        (16, 8, False),
        (16, 8, True),
        (32, 8, True),
        (64, 8, True),
        (16, 6, True),
    ):
        g, cfg = attention_tagger(p, clock, bits, narrow=narrow)
        t0 = time.perf_counter()
        u = plan_graph(g, cfg)
        print(
            f"{p:>9} {bits:>4} {'narrow' if narrow else bits:>6} {u.adders:>7} {u.lut_estimate:>8} {u.registers:>7} "
            f"{u.multipliers:>4} {u.stages:>6} {u.latency:>6} {u.latency * clock:>11.1f} {u.fmax_mhz:>5.0f} MHz  "
            f"(plan {time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    print(
        f"  tables: narrow = probabilities ap_ufixed<{NARROW['probability']},0>, exp / 1/sum entries "
        f"ap_ufixed<{NARROW['exp']},1>; a number: all three at that width"
    )
    print(
        f"  published: {PUBLISHED[0][0]}: {PUBLISHED[0][1]} ns, {PUBLISHED[0][2] // 1000}k LUT, 0 DSP, II 1"
    )
    accuracy(16, clock)
    if yosys_particles:
        import os

        from hlsgen.backends.rtl.latency import synthesize_latency
        from hlsgen.backends.rtl.split import default_parts

        g, cfg = attention_tagger(yosys_particles, clock)
        core = plan_graph(g, cfg)
        n = parts or default_parts(core)
        design = build_latency_design(g, cfg, g.name, n)
        load0 = os.getloadavg()
        with tempfile.TemporaryDirectory() as d:
            for name, text in top_files(design).items():
                with open(f"{d}/{name}", "w") as f:
                    f.write(text)
            t0 = time.perf_counter()
            c = synthesize_latency(design, d, log=lambda line: print(f"  {line}", flush=True))
            dt = time.perf_counter() - t0
        load1 = os.getloadavg()
        u = design.core
        carry = c.cells.get("CARRY8", 0) + c.cells.get("CARRY4", 0)
        print(
            f"{yosys_particles:>9} particles, Yosys synth_xilinx of the attention top in {max(n, 1)} part(s): "
            f"LUT {c.lut} (plan {u.lut_estimate}; LUTRAM {c.lutram}), FF {c.ff} ({c.dead_ff} only the cuts "
            f"keep), DSP {c.dsp}, CARRY {carry}; "
            f"{c.depth.deepest.lut_levels} LUT levels, est. Fmax {c.depth.fmax_mhz:.0f} MHz -> {u.latency} "
            f"cycles = {u.latency * 1000 / c.depth.fmax_mhz:.1f} ns"
        )
        print(
            f"  hlsgen (Yosys + delay model): {u.latency * 1000 / c.depth.fmax_mhz:.1f} ns, {c.lut} LUT, {c.ff} FF, "
            f"{c.dsp} DSP, slowest path {c.depth.worst.delay:.2f} ns ({c.depth.fmax_mhz:.0f} MHz), II 1 | "
            f"published {PUBLISHED[0][0]}: {PUBLISHED[0][1]} ns, {PUBLISHED[0][2] // 1000}k LUT, 0 DSP, II 1"
        )
        print(
            f"  yosys wall {dt:.0f} s, CPU of the Yosys processes {c.cpu_seconds:.0f} s, peak RSS of a "
            f"child {c.peak_rss_mib:.0f} MiB; load average {load0[0]:.1f} before, {load1[0]:.1f} after"
        )
        for p, pc in zip(design.parts, c.parts, strict=False):
            print(
                f"  {p.module}: stages {p.first}-{p.last}, {pc.depth.worst.delay if pc.depth else 0:.2f} ns"
            )


def stage_spans(particles: int, clock: float, bits: int = 8) -> None:
    """Where the stages of the true-attention tagger go: per op, the stages its values are computed in
    and its estimated delays (the cast, the slowest value)."""
    from hlsgen.backends.rtl.latency import plan_graph
    from hlsgen.ir.graph import c_identifier

    g, cfg = attention_tagger(particles, clock, bits)
    u = plan_graph(g, cfg)
    print()
    print(
        f"stages of the {particles}-particle {bits}-bit attention tagger ({u.stages} stages, {u.latency} cycles):"
    )
    print(
        f"{'op':10} {'stages':>9} {'values':>7} {'casts':>5} {'cast ns':>7} {'slowest value':>24} "
        f"{'LUT est':>8} {'FF est':>7}"
    )
    ffs: dict[str, int] = {}
    for reg, _, width in u.registers_of():
        op = next((o.name for o in g.ops if reg.startswith(f"{c_identifier(o.name)}_")), "")
        ffs[op] = ffs.get(op, 0) + width
    luts = u.extra["op_luts"]
    for op in g.ops:
        pre = f"{c_identifier(op.name)}_"
        tail = f" {luts.get(op.name, 0):>8} {ffs.get(op.name, 0):>7}"
        vs = [
            v
            for v in u.values
            if v.name.startswith(pre)
            and v.kind not in ("ext", "acc")
            or (v.name.startswith(pre) and v.kind == "acc" and v.args)
        ]
        if not vs:
            print(f"{op.name:10} {'wires':>9}{'':>48}{tail}")
            continue
        casts = [v for v in vs if v.kind == "cast"]
        slow = max(vs, key=lambda v: v.delay)
        lo, hi = min(v.stage for v in vs), max(v.stage for v in vs)
        cast_ns = max((v.delay for v in casts), default=0.0)
        print(
            f"{op.name:10} {f'{lo}-{hi}':>9} {len(vs):>7} {len(casts):>5} {cast_ns:>7.2f} "
            f"{f'{slow.kind} {slow.delay:.2f} ns':>24}{tail}"
        )
    print(
        f"{'total':10} {'':>48} {u.lut_estimate:>8} {u.registers:>7}  (FF est: the pipeline registers; "
        "the total adds the input register and the valid bits)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clock", type=float, default=3.333, help="clock target (ns)")
    ap.add_argument("--yosys", action="store_true", help="synthesise one particle's layers with Yosys")
    ap.add_argument(
        "--yosys-particles", type=int, default=8, help="particles of the whole tagger Yosys synthesises"
    )
    ap.add_argument(
        "--yosys-attention", type=int, default=0, help="particles of the attention tagger Yosys synthesises"
    )
    ap.add_argument(
        "--parts",
        type=int,
        default=0,
        help="stage ranges the attention core is cut into for Yosys (default: about 40k estimated LUTs each)",
    )
    ap.add_argument(
        "--stages",
        type=int,
        default=16,
        help="particles of the attention tagger whose stages are listed per op",
    )
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    layers = [("dense1", 3, 16), ("dense2", 16, 16)]
    ops = [_layer(n, i, o, 1, rng, "") for n, i, o in layers]
    one = [plan_linear(op, 1, args.clock, "lut") for op in ops]
    syn = {}
    if args.yosys:
        from hlsgen.backends.rtl.yosys import synthesize

        for op, u in zip(ops, one, strict=True):
            with tempfile.TemporaryDirectory() as d:
                t0 = time.perf_counter()
                c = synthesize(d, write_rtl(u, d), u.module, depth=True)
                syn[op.name] = (c, time.perf_counter() - t0)
    print(f"clock target {args.clock} ns ({1000 / args.clock:.0f} MHz); latency strategy, multiplier lut")
    print("per layer, one particle:")
    hdr = (
        f"{'layer':8} {'in':>3} {'out':>3} {'CMM add':>7} {'no-CSE':>6} {'+bias':>5} {'LUT est':>7} "
        f"{'stages':>6} {'cycles':>6} {'plan Fmax':>9}"
    )
    print(hdr + "  yosys LUT/FF/DSP  LUT levels  est. Fmax")
    for op, u in zip(ops, one, strict=True):
        g = u.graph
        line = (
            f"{op.name:8} {op.n_in:>3} {op.n_out:>3} {g.cost.adders:>7} {g.cost.adders_without_sharing:>6} "
            f"{u.adders - g.cost.adders:>5} {u.lut_estimate:>7} {u.stages:>6} {u.latency:>6} "
            f"{u.fmax_mhz:>5.0f} MHz"
        )
        if op.name in syn:
            c, dt = syn[op.name]
            line += (
                f"  {c.lut}/{c.ff}/{c.dsp}  {c.depth.deepest.lut_levels:>10}  {c.depth.fmax_mhz:.0f} MHz "
                f"(yosys {dt:.0f} s)"
            )
        print(line)
    cycles = sum(u.latency for u in one)  # layers back to back, each with its input/output registers
    fmax = min(u.fmax_mhz for u in one)  # the plan's estimate; Yosys's delay-model figure when run
    if syn:
        fmax = min(c.depth.fmax_mhz for c, _ in syn.values())
    print()
    print(
        f"{'particles':>9} {'adders':>7} {'LUT est':>8} {'LUT yosys':>9} {'cycles':>6} {'ns @ target':>11} "
        f"{'ns @ est. Fmax':>14}  (est. Fmax {fmax:.0f} MHz, {'Yosys netlist' if syn else 'plan'})"
    )
    for p in (16, 32, 64):
        adders = p * sum(u.adders for u in one)
        lut = p * sum(u.lut_estimate for u in one)
        ly = p * sum(syn[op.name][0].lut for op in ops) if syn else None
        print(
            f"{p:>9} {adders:>7} {lut:>8} {ly if ly is not None else '-':>9} {cycles:>6} "
            f"{cycles * args.clock:>11.1f} {cycles * 1000 / fmax:>14.1f}"
        )
    print()
    print("published (whole models, Vivado after place and route):")
    for name, ns, lut in PUBLISHED:
        print(f"  {name}: {ns} ns, {lut // 1000}k LUT, II 1, 0 DSP")
    print(
        "hlsgen figures above: per-particle Dense layers only (no pooling, head, attention, softmax, norm);"
        " LUT est = hlsgen.fixed.cmm estimate, LUT yosys = Yosys synth_xilinx x particles; the clock is an"
        " estimate of the delay model, not Vivado timing."
    )
    whole_model(args.clock, args.yosys_particles if args.yosys else None)
    layernormed(args.clock, args.yosys)
    attention_model(args.clock, args.yosys_attention or None, args.parts or None)
    if args.stages:
        stage_spans(args.stages, args.clock)


if __name__ == "__main__":
    main()
