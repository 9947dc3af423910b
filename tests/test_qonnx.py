"""QONNX quantizer nodes and Brevitas models exported with ``brevitas.export.export_qonnx``.

Quant nodes become casts to ``ap_fixed<b, b + log2(scale)>``: every rounding mode and saturation case is
compared with QONNX's own arithmetic (a port of ``qonnx.custom_op.general.quant.quant`` below) and, for the
modes Brevitas has, with Brevitas's integer quantizer, on values at and next to the ties and past the
range. Brevitas models: ``proj.predict`` equals the Brevitas forward pass bit for bit (inputs on the input
quantizer's grid, biases on a grid a float32 sum keeps exact); QuantMultiheadAttention equals it when
hlsgen's own softmax (the Softmax op of the converted graph) stands in for torch's, and stays within a
measured bound with torch's.
"""

from __future__ import annotations

import types
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
qnn = pytest.importorskip("brevitas.nn")
pytest.importorskip("onnxoptimizer")  # brevitas.export.export_qonnx needs it

import brevitas.quant as bq  # noqa: E402
from brevitas.export import export_qonnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import hlsgen  # noqa: E402
from hlsgen.fixed import from_raw, to_raw  # noqa: E402
from hlsgen.frontend import UnsupportedModelError  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore::UserWarning")]
nn = torch.nn

WIDE = {"default_precision": "ap_fixed<24,8>"}
QDOMAIN = "qonnx.custom_op.general"


# ---------------------------------------------------------------------------------------------------
# QONNX's arithmetic (qonnx/custom_op/general/quant.py and trunc.py; the rounding table of its
# IntQuant spec: HALF_UP = sign(x) * floor(|x| + 0.5), HALF_DOWN = sign(x) * ceil(|x| - 0.5))
# ---------------------------------------------------------------------------------------------------
def _min_int(signed: bool, narrow: bool, bits: int) -> int:
    if signed and narrow:
        return -(2 ** (bits - 1)) + 1
    if signed:
        return -(2 ** (bits - 1))
    return 0


def _max_int(signed: bool, narrow: bool, bits: int) -> int:
    if not signed and not narrow:
        return 2**bits - 1
    if not signed and narrow:
        return 2**bits - 2
    return 2 ** (bits - 1) - 1


_QONNX_ROUND = {
    "ROUND": np.round,
    "HALF_EVEN": np.round,
    "FLOOR": np.floor,
    "DOWN": np.fix,
    "ROUND_TO_ZERO": np.fix,
    "HALF_UP": lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5),
    "HALF_DOWN": lambda x: np.sign(x) * np.ceil(np.abs(x) - 0.5),
}


def qonnx_quant(x, scale, bits, signed, narrow, mode):  # noqa: ANN001, ANN201
    y = x / scale
    y = np.clip(y, _min_int(signed, narrow, bits), _max_int(signed, narrow, bits))
    return _QONNX_ROUND[mode](y) * scale


def qonnx_trunc(x, scale, out_scale, out_bits, signed, narrow, mode):  # noqa: ANN001, ANN201
    y = np.round(x / scale)
    t = 2 ** np.round(np.log2(out_scale / scale))
    y = y / t
    y = np.clip(y, _min_int(signed, narrow, out_bits), _max_int(signed, narrow, out_bits))
    return _QONNX_ROUND[mode](y) * out_scale


# ---------------------------------------------------------------------------------------------------
def _const(name: str, v: float | np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(v, dtype=np.float32), name)


def _model(nodes: list, inits: list, n_in: int, n_out: int, name: str) -> onnx.ModelProto:
    g = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, n_out])],
        inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(QDOMAIN, 1)])
    m.ir_version = 8
    return m


def quant_model(scale, bits, signed=1, narrow=0, mode="ROUND", zero_point=0.0, n=8, name="/act/Quant",  # noqa: ANN001, ANN201
                op_type="Quant", domain=QDOMAIN):  # fmt: skip
    node = helper.make_node(
        op_type, ["x", "s", "z", "b"], ["y"], name=name, domain=domain, signed=signed, narrow=narrow,
        rounding_mode=mode,
    )  # fmt: skip
    inits = [_const("s", scale), _const("z", zero_point), _const("b", bits)]
    return _model([node], inits, n, n, "quant")


def _ties(lsb: float, lo: int, hi: int) -> np.ndarray:
    """Every half step of the grid from 2 steps below ``lo`` to 2 above ``hi`` (ties at the odd ones),
    and the values 2^-12 either side of each: [rows of 8]."""
    k = np.arange(2 * lo - 4, 2 * hi + 5)
    v = k * lsb / 2
    v = np.concatenate([v, v + 2.0**-12, v - 2.0**-12])
    v = np.concatenate([v, np.zeros((-v.size) % 32)])
    return v.reshape(-1, 8)


MODES = ["ROUND", "HALF_EVEN", "HALF_UP", "HALF_DOWN", "FLOOR", "DOWN", "ROUND_TO_ZERO"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("signed", "narrow"), [(1, 0), (1, 1), (0, 0)])
def test_quant_rounding_and_saturation_equal_qonnx(mode: str, signed: int, narrow: int) -> None:
    scale, bits = 2.0**-3, 4
    lo, hi = _min_int(signed, narrow, bits), _max_int(signed, narrow, bits)
    x = _ties(scale, lo, hi)
    proj = hlsgen.convert(quant_model(scale, bits, signed, narrow, mode), WIDE)
    op = proj.graph.ops[0]
    assert op.kind == "activation" and op.function == "linear"
    rnd = {"ROUND": "AP_RND_CONV", "HALF_EVEN": "AP_RND_CONV", "HALF_UP": "AP_RND_INF",
           "HALF_DOWN": "AP_RND_ZERO", "FLOOR": "", "DOWN": "AP_TRN_ZERO", "ROUND_TO_ZERO": "AP_TRN_ZERO"}[mode]  # fmt: skip
    ovf = "AP_SAT_SYM" if narrow else "AP_SAT"
    kind = "ap_fixed" if signed else "ap_ufixed"
    assert str(op.types["y"]) == f"{kind}<4,{4 - 3},{rnd or 'AP_TRN'},{ovf}>"
    y = proj.predict(x)
    np.testing.assert_array_equal(y, qonnx_quant(x, scale, bits, signed, narrow, mode))
    assert y.min() == lo * scale and y.max() == hi * scale  # the clamp is reached both ways


def test_intquant_name_and_finn_domain() -> None:
    """QONNX's newer name IntQuant and FINN's domain read the same; lower-case modes too."""
    scale, bits = 2.0**-3, 6
    x = _ties(scale, -32, 31)
    model = quant_model(scale, bits, mode="half_up", op_type="IntQuant", domain="finn.custom_op.general")
    np.testing.assert_array_equal(
        hlsgen.convert(model, WIDE).predict(x), qonnx_quant(x, scale, bits, 1, 0, "HALF_UP")
    )


def test_other_custom_ops_refused_by_name() -> None:
    node = helper.make_node("MultiThreshold", ["x", "t"], ["y"], name="/act/MultiThreshold", domain=QDOMAIN)
    with pytest.raises(UnsupportedModelError, match="MultiThreshold is not supported"):
        hlsgen.convert(_model([node], [_const("t", np.zeros((8, 3)))], 8, 8, "mt"), WIDE)


@pytest.mark.parametrize("mode", ["ROUND", "FLOOR", "ROUND_TO_ZERO"])
def test_quant_equals_brevitas_int_quant(mode: str) -> None:
    """The same casts against Brevitas's own IntQuant (the module its quantizers run) at the ties."""
    from brevitas.core.function_wrapper import FloorSte, RoundSte, RoundToZeroSte, TensorClamp
    from brevitas.core.quant import IntQuant

    impl = {"ROUND": RoundSte, "FLOOR": FloorSte, "ROUND_TO_ZERO": RoundToZeroSte}[mode]
    scale, bits = 2.0**-2, 5
    for signed, narrow in [(True, False), (True, True), (False, False)]:
        q = IntQuant(narrow_range=narrow, signed=signed, input_view_impl=nn.Identity(),
                     float_to_int_impl=impl(), tensor_clamp_impl=TensorClamp())  # fmt: skip
        x = _ties(scale, _min_int(signed, narrow, bits), _max_int(signed, narrow, bits))
        ref = q(torch.tensor(scale), torch.tensor(0.0), torch.tensor(float(bits)), torch.tensor(x))
        proj = hlsgen.convert(quant_model(scale, bits, int(signed), int(narrow), mode), WIDE)
        np.testing.assert_array_equal(proj.predict(x), ref.double().numpy())


@pytest.mark.parametrize("mode", ["FLOOR", "ROUND", "DOWN"])
def test_trunc_equals_qonnx(mode: str) -> None:
    """A Trunc (opset 2) after a 10-bit grid of 2^-6, to 5 bits of 2^-2: two casts, as QONNX computes."""
    node = helper.make_node(
        "Trunc", ["x", "s", "z", "bi", "so", "bo"], ["y"], name="/pool/trunc/Trunc", domain=QDOMAIN,
        rounding_mode=mode, signed=1, narrow=0,
    )  # fmt: skip
    inits = [_const("s", 2.0**-6), _const("z", 0.0), _const("bi", 10), _const("so", 2.0**-2), _const("bo", 5)]
    proj = hlsgen.convert(_model([node], inits, 8, 8, "trunc"), WIDE)
    x = _ties(2.0**-6, -600, 600)[::7]  # on the 2^-7 grid: the input rounding to 2^-6 is exercised too
    np.testing.assert_array_equal(proj.predict(x), qonnx_trunc(x, 2.0**-6, 2.0**-2, 5, 1, 0, mode))


BAD = {
    "ceil": (dict(mode="CEIL"), "rounding_mode CEIL: ap_fixed has no round-toward-\\+infinity mode"),
    "up": (dict(mode="UP"), "rounding_mode UP"),
    "zero_point": (dict(zero_point=1.0), "zero point .* is not 0"),
    "float_scale": (dict(scale=0.1), "scale 0.1.* not a power of two"),
    "per_channel": (dict(scale=np.full((1, 8), 0.25)), "per-tensor quantizer"),
    "unsigned_narrow": (dict(signed=0, narrow=1), "unsigned narrow range"),
    "bipolar_as_quant": (dict(bits=1), "1-bit signed Quant is bipolar"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_inexact_quant_refused_naming_the_node(case: str) -> None:
    kw, why = BAD[case]
    args = dict(scale=0.25, bits=8) | kw
    with pytest.raises(UnsupportedModelError, match=f"Quant node '/act/Quant': .*{why}"):
        hlsgen.convert(quant_model(**args), WIDE)


def test_every_refused_quantizer_listed_at_once() -> None:
    nodes = [
        helper.make_node("Quant", ["x", "s", "z", "b"], ["h"], name="/a/Quant", domain=QDOMAIN, signed=1,
                         narrow=0, rounding_mode="CEIL"),
        helper.make_node("Quant", ["h", "s2", "z", "b"], ["y"], name="/b/Quant", domain=QDOMAIN, signed=1,
                         narrow=0, rounding_mode="ROUND"),
    ]  # fmt: skip
    inits = [_const("s", 0.25), _const("s2", 0.3), _const("z", 0.0), _const("b", 8)]
    with pytest.raises(UnsupportedModelError, match=r"2 unsupported op\(s\)") as e:
        hlsgen.convert(_model(nodes, inits, 8, 8, "two"), WIDE)
    assert "'/a/Quant': rounding_mode CEIL" in str(e.value) and "'/b/Quant': scale 0.3" in str(e.value)


def test_bipolar_quant_on_activations_refused() -> None:
    node = helper.make_node("BipolarQuant", ["x", "s"], ["y"], name="/sign/BipolarQuant", domain=QDOMAIN)
    with pytest.raises(
        UnsupportedModelError, match="BipolarQuant node '/sign/BipolarQuant': .* sign function"
    ):
        hlsgen.convert(_model([node], [_const("s", 1.0)], 8, 8, "bipolar"), WIDE)


def test_quantized_weights_evaluated_exactly_per_channel() -> None:
    """Quant / BipolarQuant of initializers: evaluated at read time; per-channel power-of-two scales give
    one weight type that holds every channel exactly."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 6)).astype(np.float32)
    s = (2.0 ** -np.array([2, 3, 4, 5, 6, 9])).reshape(1, 6).astype(np.float32)
    nodes = [
        helper.make_node("Quant", ["w", "s", "z", "b"], ["wq"], name="/fc/weight_quant/Quant", domain=QDOMAIN,
                         signed=1, narrow=1, rounding_mode="ROUND"),
        helper.make_node("BipolarQuant", ["w2", "s2"], ["w2q"], name="/fc2/BipolarQuant", domain=QDOMAIN),
        helper.make_node("MatMul", ["x", "wq"], ["h"], name="/fc/MatMul"),
        helper.make_node("Transpose", ["w2q"], ["w2t"], name="/fc2/Transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["h", "w2t"], ["y"], name="/fc2/MatMul"),
    ]  # fmt: skip
    w2 = rng.normal(size=(3, 6)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), _const("s", s), _const("z", 0.0), _const("b", 6),
             numpy_helper.from_array(w2, "w2"), _const("s2", 0.5)]  # fmt: skip
    model = _model(nodes, inits, 8, 3, "weights")
    proj = hlsgen.convert(model, {"default_precision": "ap_fixed<32,10>"})
    wq = qonnx_quant(w.astype(np.float64), s.astype(np.float64), 6, 1, 1, "ROUND")
    lin = {op.name: op for op in proj.graph.ops}
    tw = lin["fc"].types["weight"]
    assert tw.frac == 9 and tw.width <= 6 + 9 - 2  # 6 bits at scales 2^-2 .. 2^-9: one exact type
    np.testing.assert_array_equal(from_raw(lin["fc"].w_raw, tw), wq)
    x = np.round(rng.normal(size=(4, 8)) * 16) / 16
    w2q = np.where(w2 >= 0, 0.5, -0.5).T
    np.testing.assert_array_equal(proj.predict(x), (x @ wq) @ w2q)


# ---------------------------------------------------------------------------------------------------
# Brevitas models through export_qonnx
# ---------------------------------------------------------------------------------------------------
def _export(model: nn.Module, x: torch.Tensor | tuple, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(model, x, export_path=str(path), dynamo=False, opset_version=17)
    return path


A8, U8 = bq.Int8ActPerTensorFixedPoint, bq.Uint8ActPerTensorFixedPoint
W8 = bq.Int8WeightPerTensorFixedPoint
W8_CHANNEL = bq.Int8WeightPerTensorFixedPoint.let(scaling_per_output_channel=True)


class QMLP(nn.Module):
    def __init__(self, wq: type = W8, d: int = 16) -> None:
        super().__init__()
        self.inp = qnn.QuantIdentity(act_quant=A8, return_quant_tensor=False)
        self.fc = qnn.QuantLinear(d, 8, bias=True, weight_quant=wq, return_quant_tensor=False)
        self.relu = qnn.QuantReLU(act_quant=U8, return_quant_tensor=False)
        self.fc2 = qnn.QuantLinear(8, 4, bias=True, weight_quant=wq, bias_quant=bq.Int16Bias,
                                   input_quant=U8, return_quant_tensor=False)  # fmt: skip
        self.out = qnn.QuantIdentity(act_quant=A8, return_quant_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.fc2(self.relu(self.fc(self.inp(x)))))


def _mlp(wq: type) -> QMLP:
    torch.manual_seed(4)
    m = QMLP(wq)
    with torch.no_grad():  # weights of different sizes per row (per-channel scales differ); a float
        m.fc.weight.mul_(torch.linspace(0.2, 3.0, 8)[:, None])  # bias on the 2^-10 grid: exact in float32
        m.fc.bias.copy_(torch.round(m.fc.bias * 1024) / 1024)
    return m.eval()


WEIGHT_QUANTS = {
    "per_tensor": W8,
    "per_channel": W8_CHANNEL,
    "per_tensor_float": bq.Int8WeightPerTensorFloat,
    "per_channel_float": bq.Int8WeightPerChannelFloat,
}


@pytest.mark.parametrize("wq", list(WEIGHT_QUANTS))
def test_brevitas_mlp_equals_forward(wq: str, tmp_path: Path) -> None:
    """Power-of-two and float weight scales, per tensor and per channel: weights are evaluated at read time
    (int8 times a float32 scale is exact in a wider type), activations are power-of-two casts."""
    m = _mlp(WEIGHT_QUANTS[wq])
    x = torch.round(torch.randn(16, 4, 16) * 128) / 128
    proj = hlsgen.convert(_export(m, x, tmp_path / "mlp.onnx"), WIDE)
    with torch.no_grad():
        ref = m(x).double().numpy()
    np.testing.assert_array_equal(proj.predict(x.numpy()), ref)
    types_ = {op.name: op.types for op in proj.graph.ops}
    assert str(types_["inp_quant"]["y"]) == "ap_fixed<8,1,AP_RND_CONV,AP_SAT>"
    assert str(types_["relu_quant"]["y"]) == "ap_ufixed<8,0,AP_RND_CONV,AP_SAT>"
    w = types_["fc"]["weight"]
    assert w.width == 8 if wq == "per_tensor" else w.width > 8  # one type holding every scale's values
    if not wq.endswith("float"):  # Int16Bias at a power-of-two scale: 16 bits, read exactly
        assert types_["fc2"]["bias"].width <= 16


@pytest.mark.gxx
@pytest.mark.slow
def test_brevitas_mlp_csim_equals_predict(tmp_path: Path) -> None:
    m = _mlp(W8_CHANNEL)
    x = torch.round(torch.randn(8, 4, 16) * 128) / 128
    proj = hlsgen.convert(_export(m, x, tmp_path / "mlp.onnx"), WIDE)
    y = proj.predict(x.numpy())
    np.testing.assert_array_equal(proj.csim(x.numpy()), y)


D, H, T = 16, 4, 6  # head_dim 4: 1/sqrt(4) is a power of two, so the scaled query's quantizer is a cast


class QBlock(nn.Module):
    """A transformer-ish block: quantized input, QuantMultiheadAttention with power-of-two quantizers, a
    residual add, a QuantLinear head."""

    def __init__(self, softmax_input_quant: type | None = None, mask: bool = False) -> None:
        super().__init__()
        self.mask = mask
        self.inp = qnn.QuantIdentity(act_quant=A8, return_quant_tensor=False)
        self.mha = qnn.QuantMultiheadAttention(
            D, H, batch_first=True, in_proj_input_quant=A8, in_proj_weight_quant=W8,
            in_proj_bias_quant=bq.Int32Bias, attn_output_weights_quant=U8, q_scaled_quant=A8,
            k_transposed_quant=A8, v_quant=A8, out_proj_input_quant=A8, out_proj_weight_quant=W8,
            out_proj_bias_quant=bq.Int32Bias, softmax_input_quant=softmax_input_quant,
        )  # fmt: skip
        self.head = qnn.QuantLinear(
            D, 4, bias=False, weight_quant=W8, input_quant=A8, return_quant_tensor=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(x)
        kw = {"attn_mask": nn.Transformer.generate_square_subsequent_mask(T)} if self.mask else {}
        return self.head(x + self.mha(x, x, x, need_weights=False, **kw)[0])


def _block(**kw: object) -> QBlock:
    torch.manual_seed(7)
    m = QBlock(**kw)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("weight"):
                p.mul_(2.0)
            elif name.endswith("bias"):
                p.copy_(torch.round(torch.randn_like(p) * 0.1 * 1024) / 1024)
    return m.eval()


def _with_hlsgen_softmax(proj: hlsgen.Project) -> types.SimpleNamespace:
    """``torch.nn.functional`` for brevitas.nn.quant_mha with softmax = the converted graph's Softmax op
    (its execute on the raw scores, as the firmware computes it)."""
    sm = next(op for op in proj.graph.ops if op.kind == "softmax")
    per = proj.graph.tensors[sm.inputs[0]].shape
    ts, tp = sm.types["x"], sm.types["y"]

    def softmax(s: torch.Tensor, dim: int = -1, **_: object) -> torch.Tensor:
        a = s.double().numpy()
        keep = np.isfinite(a)  # a mask's -inf: the keys the Mask op blocks
        a = np.where(keep, a, 0.0)
        raw = to_raw(a, ts)
        assert np.array_equal(from_raw(raw, ts), a), "scores off the score type's grid"
        if keep.all():
            out = sm.execute(raw.reshape(-1, *per))
        else:
            k4 = keep.reshape(-1, *per)
            mask = k4[0, 0]
            assert np.all(k4 == mask), "a mask that differs between samples or heads"
            mask = np.broadcast_to(mask, (k4.shape[0], *mask.shape))
            out = sm.execute(raw.reshape(-1, *per), mask.astype(np.int64))
        return torch.from_numpy(from_raw(out[0], tp).reshape(a.shape)).float()

    F = torch.nn.functional
    return types.SimpleNamespace(softmax=softmax, dropout=F.dropout, pad=F.pad)


def _forward(m: nn.Module, x: torch.Tensor, functional: object = None) -> np.ndarray:
    import brevitas.nn.quant_mha as qm

    saved = qm.F
    qm.F = functional or saved
    try:
        with torch.no_grad():
            return m(x).double().numpy()
    finally:
        qm.F = saved


@pytest.mark.parametrize("variant", ["plain", "causal_mask", "softmax_input_quant"])
def test_brevitas_quant_mha_block_equals_forward(variant: str, tmp_path: Path) -> None:
    """QuantMultiheadAttention through QONNX: the attention primitives (projections split from the packed
    in_proj, scores, softmax, context, out_proj) with a cast per Brevitas quantizer; the emulation equals
    the forward pass bit for bit with hlsgen's softmax in it, and is within 1% of the output's range with
    torch's softmax (0.3-0.7% measured)."""
    kw = {
        "mask": variant == "causal_mask",
        "softmax_input_quant": A8 if variant == "softmax_input_quant" else None,
    }
    m = _block(**kw)
    x = torch.round(torch.randn(8, T, D) * 64) / 64
    proj = hlsgen.convert(_export(m, x, tmp_path / "block.onnx"), WIDE)
    kinds = [op.kind for op in proj.graph.ops]
    assert kinds.count("scores") == 1 and kinds.count("context") == 1 and ("mask" in kinds) == kw["mask"]
    ops = {op.name: op for op in proj.graph.ops}
    assert {"mha_in_proj_query", "mha_in_proj_key", "mha_in_proj_value", "mha_out_proj"} <= set(ops)
    assert str(ops["mha_q_scaled_quant"].types["y"]) == "ap_fixed<8,2,AP_RND_CONV,AP_SAT>"  # q, not q/2
    if kw["softmax_input_quant"]:
        assert str(ops["mha_scores"].types["y"]) == "ap_fixed<8,4,AP_RND_CONV,AP_SAT>"
    y = proj.predict(x.numpy())
    np.testing.assert_array_equal(y, _forward(m, x, _with_hlsgen_softmax(proj)))
    ref = _forward(m, x)
    assert np.abs(y - ref).max() / np.abs(ref).max() < 0.01


@pytest.mark.gxx
@pytest.mark.slow
def test_brevitas_quant_mha_csim_equals_predict(tmp_path: Path) -> None:
    m = _block()
    x = torch.round(torch.randn(4, T, D) * 64) / 64
    proj = hlsgen.convert(_export(m, x, tmp_path / "block.onnx"), WIDE)
    np.testing.assert_array_equal(proj.csim(x.numpy()), proj.predict(x.numpy()))


def test_softmax_input_quant_on_masked_scores_refused(tmp_path: Path) -> None:
    m = _block(mask=True, softmax_input_quant=A8)
    x = torch.round(torch.randn(2, T, D) * 64) / 64
    with pytest.raises(
        UnsupportedModelError, match="softmax_input_quant/act_quant/export_handler/Quant'.*mask"
    ):
        hlsgen.convert(_export(m, x, tmp_path / "masked.onnx"), WIDE)


def test_quant_mha_float_scales_refused_by_node(tmp_path: Path) -> None:
    """Brevitas's default QuantMultiheadAttention quantizers have float scales: the activation quantizers
    whose scale is no power of two are refused by name (float-scale weights are evaluated exactly)."""
    torch.manual_seed(0)
    m = nn.Sequential(qnn.QuantIdentity(act_quant=A8, return_quant_tensor=False))
    mha = qnn.QuantMultiheadAttention(D, H, batch_first=True)

    class Wrap(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp, self.mha = m, mha

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.inp(x)
            return self.mha(h, h, h, need_weights=False)[0]

    x = torch.randn(2, T, D)
    with pytest.raises(
        UnsupportedModelError, match=r"Quant node '/mha/\S+/Quant': scale \S+ is not a power of two"
    ) as e:
        hlsgen.convert(_export(Wrap().eval(), x, tmp_path / "float.onnx"), WIDE)
    # untrained, Int8ActPerTensorFloat starts at 2^-7 (convertible); Uint8 probabilities at 1/255 are not
    assert "attn_output_weights_quant" in str(e.value)


def test_query_quantizer_needs_a_power_of_4_head_dim(tmp_path: Path) -> None:
    """head_dim 8: the scaled query q / sqrt(8) on a power-of-two grid is q on a grid of 2^-k * sqrt(8),
    which no ap_fixed type has: refused naming q_scaled_quant."""
    torch.manual_seed(0)

    class Wide(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = qnn.QuantIdentity(act_quant=A8, return_quant_tensor=False)
            self.mha = qnn.QuantMultiheadAttention(
                D, 2, batch_first=True, in_proj_input_quant=A8, in_proj_weight_quant=W8,
                in_proj_bias_quant=bq.Int32Bias, attn_output_weights_quant=U8, q_scaled_quant=A8,
                k_transposed_quant=A8, v_quant=A8, out_proj_input_quant=A8, out_proj_weight_quant=W8,
                out_proj_bias_quant=bq.Int32Bias,
            )  # fmt: skip

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.inp(x)
            return self.mha(h, h, h, need_weights=False)[0]

    x = torch.randn(2, T, D)
    with pytest.raises(
        UnsupportedModelError, match=r"q_scaled_quant/.*over the input's 1/2.82843 .*power of 4"
    ):
        hlsgen.convert(_export(Wide().eval(), x, tmp_path / "hd8.onnx"), WIDE)


def test_quant_mha_through_torch_export_points_to_qonnx() -> None:
    m = _block()
    with pytest.raises(UnsupportedModelError, match=r"mha \(QuantMultiheadAttention\).*export_qonnx"):
        hlsgen.convert(m, WIDE, example_input=torch.randn(2, T, D))


def test_quant_mha_key_padding_mask_input_refused(tmp_path: Path) -> None:
    """A key_padding_mask model input exports as a bool ONNX input, which the ONNX reader refuses by name."""

    class Padded(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.b = _block()

        def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
            h = self.b.inp(x)
            return self.b.mha(h, h, h, key_padding_mask=pad, need_weights=False)[0]

    x = torch.round(torch.randn(2, T, D) * 64) / 64
    pad = torch.zeros(2, T, dtype=torch.bool)
    with pytest.raises(UnsupportedModelError, match="input key_padding_mask: only float inputs"):
        hlsgen.convert(_export(Padded().eval(), (x, pad), tmp_path / "pad.onnx"), WIDE)
