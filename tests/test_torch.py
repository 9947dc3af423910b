"""PyTorch front end: modules built here with seeded random weights, traced with torch.export, converted.

Every model: ``proj.predict`` within 2% of the module's float output (max error / max |output|) at a wide
type (ap_fixed<24,8>, integer bits from calibration on the test inputs; the 2% are the activation and
softmax tables' resolution, the rest of the datapath rounds at 2^-16 or finer); one model holding every
attention form: csim == predict bit for bit; one small model saved as a .pt2 program: ``hlsgen convert``
and ``hlsgen cosim`` bit-exact.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from helpers import run_cli  # noqa: E402

import hlsgen  # noqa: E402
from hlsgen.frontend.keras import UnsupportedModelError  # noqa: E402

pytestmark = pytest.mark.torch

D, H, T = 16, 2, 6
WIDE = {"default_precision": "ap_fixed<24,8>"}


class MHAModel(nn.Module):
    """nn.MultiheadAttention in its variants: sequence-first, no bias, kdim/vdim, key != value, masks."""

    def __init__(
        self,
        batch_first: bool = True,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
        cross: bool = False,
        mask: str = "",
        need_weights: bool = False,
    ) -> None:
        super().__init__()
        self.bf, self.cross, self.mask, self.nw = batch_first, cross, mask, need_weights
        self.mha = nn.MultiheadAttention(D, H, bias=bias, batch_first=batch_first, kdim=kdim, vdim=vdim)
        self.kp, self.vp = nn.Linear(D, kdim or D), nn.Linear(D, vdim or D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kp(x) if self.cross else x
        v = self.vp(x) if self.cross else x
        n = x.shape[1] if self.bf else x.shape[0]
        kw = {}
        if self.mask == "causal":  # a float -inf mask
            kw["attn_mask"] = nn.Transformer.generate_square_subsequent_mask(n)
        elif self.mask == "bool":  # True = not attended
            kw["attn_mask"] = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        return self.mha(x, k, v, need_weights=self.nw, **kw)[0]


class EncoderModel(nn.Module):
    """nn.TransformerEncoder of nn.TransformerEncoderLayer, then mean pooling and a head (or no pooling)."""

    def __init__(self, norm_first: bool = True, act: str = "gelu", batch_first: bool = True, layers: int = 1,
                 pool: str = "mean") -> None:  # fmt: skip
        super().__init__()
        self.pool = pool
        layer = nn.TransformerEncoderLayer(
            D, H, 32, dropout=0.1, batch_first=batch_first, norm_first=norm_first, activation=act
        )
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(D, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.enc(x)
        if self.pool == "mean":
            return self.head(y.mean(dim=1))
        if self.pool == "token0":
            return self.head(y[:, 0])
        return y


class SDPAModel(nn.Module):
    """F.scaled_dot_product_attention (is_causal), GQA by repeat_interleave / expand, SiLU, dropout, residual."""

    def __init__(self, causal: bool = True, kv_heads: int = H, act: type[nn.Module] = nn.SiLU) -> None:
        super().__init__()
        self.q, self.o = nn.Linear(D, D), nn.Linear(D, D)
        self.kv = nn.Linear(D, 2 * (D // H) * kv_heads)
        self.kvh, self.causal = kv_heads, causal
        self.act, self.ln, self.drop = act(), nn.LayerNorm(D), nn.Dropout(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        d = c // H
        q = self.q(self.ln(x)).view(b, t, H, d).transpose(1, 2)
        k, v = self.kv(x).view(b, t, 2 * self.kvh, d).transpose(1, 2).chunk(2, dim=1)
        if self.kvh != H:
            k = k.repeat_interleave(H // self.kvh, dim=1)
            v = v[:, :, None].expand(b, self.kvh, H // self.kvh, t, d).reshape(b, H, t, d)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        y = y.transpose(1, 2).reshape(b, t, c)
        return self.drop(self.act(self.o(y))) + x


class HandModel(nn.Module):
    """nanoGPT-style attention written out: packed qkv split, q @ k^T / sqrt(d), a tril buffer mask."""

    def __init__(self, act: type[nn.Module] = nn.Tanh) -> None:
        super().__init__()
        self.qkv, self.proj, self.act = nn.Linear(D, 3 * D), nn.Linear(D, D), act()
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, H, c // H).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.act(self.proj(y))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


class LlamaBlock(nn.Module):
    """A causal decoder block: RoPE written the usual way (cos/sin from inv_freq, rotate_half), GQA by
    repeat_interleave, scaled_dot_product_attention(is_causal=True), bias-free projections."""

    def __init__(self, kv_heads: int = 1) -> None:
        super().__init__()
        d = D // H
        self.kvh = kv_heads
        self.q, self.o = nn.Linear(D, D, bias=False), nn.Linear(D, D, bias=False)
        self.k, self.v = nn.Linear(D, kv_heads * d, bias=False), nn.Linear(D, kv_heads * d, bias=False)
        self.norm = nn.LayerNorm(D)
        self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        d = c // H
        h = self.norm(x)
        q = self.q(h).view(b, t, H, d).transpose(1, 2)
        k = self.k(h).view(b, t, self.kvh, d).transpose(1, 2)
        v = self.v(h).view(b, t, self.kvh, d).transpose(1, 2)
        freqs = torch.outer(torch.arange(t, dtype=torch.float32), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // self.kvh, dim=1), v.repeat_interleave(H // self.kvh, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return x + self.o(y.transpose(1, 2).reshape(b, t, c))


class MLPModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(D, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 8), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ViTModel(nn.Module):
    """Patch features projected, a class token concatenated in front, learned positions added in forward,
    a pre-norm encoder layer, token-0 pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(D, D)
        self.cls = nn.Parameter(torch.randn(1, 1, D) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, T + 1, D) * 0.1)
        self.enc = nn.TransformerEncoderLayer(D, H, 32, dropout=0.0, batch_first=True, norm_first=True)
        self.head = nn.Linear(D, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), self.proj(x)], dim=1) + self.pos
        return self.head(self.enc(h)[:, 0])


class TextModel(nn.Module):
    """nn.Embedding of token ids, a learned position table, attention, mean pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, D)
        self.pos = nn.Parameter(torch.randn(T, D) * 0.1)
        self.mha = nn.MultiheadAttention(D, H, batch_first=True)
        self.head = nn.Linear(D, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = self.emb(ids) + self.pos
        h = h + self.mha(h, h, h, need_weights=False)[0]
        return self.head(h.mean(dim=1))


class AllAttention(nn.Module):
    """Every attention form in one model (one csim build), then a class token, positions, token 0."""

    def __init__(self) -> None:
        super().__init__()
        self.mha = MHAModel(mask="causal", need_weights=True)
        self.enc = EncoderModel(norm_first=False, act="relu", pool="none")
        self.gqa = SDPAModel(kv_heads=1)
        self.hand = HandModel(act=nn.GELU)
        self.padded = nn.MultiheadAttention(D, H, batch_first=True)
        self.cls = nn.Parameter(torch.randn(1, 1, D) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, T + 1, D) * 0.1)
        self.head = nn.Linear(D, 3)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.hand(self.gqa(self.enc(self.mha(x))))
        h = h + self.padded(h, h, h, key_padding_mask=pad, need_weights=False)[0]
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), h], dim=1) + self.pos
        return self.head(h[:, 0])


CASES = {
    "mlp": lambda: MLPModel(),
    "mha": lambda: MHAModel(),
    "mha_seq_first": lambda: MHAModel(batch_first=False),
    "mha_no_bias": lambda: MHAModel(bias=False),
    "mha_kdim_vdim": lambda: MHAModel(kdim=8, vdim=12, cross=True),
    "mha_key_not_value": lambda: MHAModel(cross=True),
    "mha_causal_float_mask": lambda: MHAModel(mask="causal"),
    "mha_causal_bool_mask": lambda: MHAModel(mask="bool"),
    "mha_need_weights": lambda: MHAModel(need_weights=True, mask="causal"),
    "encoder_post_norm_relu_2_layers": lambda: EncoderModel(norm_first=False, act="relu", layers=2),
    "encoder_pre_norm_gelu": lambda: EncoderModel(),
    "encoder_seq_first": lambda: EncoderModel(batch_first=False, pool="none"),
    "sdpa_causal": lambda: SDPAModel(),
    "sdpa_gqa": lambda: SDPAModel(kv_heads=1, act=nn.Sigmoid),
    "hand_written": lambda: HandModel(),
    "vit_class_token_positions_token0": lambda: ViTModel(),
    "encoder_token0": lambda: EncoderModel(pool="token0"),
    "embedding_positions": lambda: TextModel(),
    "llama_rope_gqa": lambda: LlamaBlock(),
}


def _convert(model: nn.Module, x: torch.Tensor, batch_dim: int = 0) -> hlsgen.Project:
    xb = np.moveaxis(x.numpy(), batch_dim, 0)
    return hlsgen.convert(model, WIDE, example_input=x, batch_dim=batch_dim, calibration_data=xb)


def _rel_err(y: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(y - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_matches_module(case: str) -> None:
    torch.manual_seed(0)
    model = CASES[case]().eval()
    bd = 1 if "seq_first" in case else 0
    x = torch.randn((4, T, D) if bd == 0 else (T, 4, D))
    if case == "embedding_positions":
        x = torch.randint(0, 50, (4, T))
    proj = _convert(model, x, bd)
    with torch.no_grad():
        ref = np.moveaxis(model(x).double().numpy(), bd, 0)
    y = proj.predict(np.moveaxis(x.numpy(), bd, 0))
    assert y.shape == ref.shape
    assert _rel_err(y, ref) < 0.02


class MaskInputs(nn.Module):
    """Masks given as model inputs: nn.MultiheadAttention's key_padding_mask (True hides a key) and a bool
    attn_mask of scaled_dot_product_attention (True attends) per sample."""

    def __init__(self) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(D, H, batch_first=True)
        self.q = nn.Linear(D, D)

    def forward(self, x: torch.Tensor, pad: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        h = self.mha(x, x, x, key_padding_mask=pad, need_weights=False)[0]
        q = self.q(h).view(x.shape[0], T, H, D // H).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, q, q, attn_mask=attend[:, None])
        return y.transpose(1, 2).reshape(x.shape)


def test_mask_inputs() -> None:
    torch.manual_seed(8)
    model = MaskInputs().eval()
    x = torch.randn(5, T, D)
    pad = torch.rand(5, T) < 0.3
    pad[:, 0] = False
    attend = torch.rand(5, T, T) > 0.3
    attend[:, :, 0] = True
    xs = [x.numpy(), pad.numpy().astype(np.float64), attend.numpy().astype(np.float64)]
    proj = hlsgen.convert(model, WIDE, example_input=[x, pad, attend], calibration_data=xs)
    assert [str(proj.graph.tensors[k].type) for k in proj.graph.inputs[1:]] == ["ap_uint<1>", "ap_uint<1>"]
    with torch.no_grad():
        ref = model(x, pad, attend).double().numpy()
    assert _rel_err(proj.predict(xs), ref) < 0.02


def test_attention_becomes_the_primitives() -> None:
    """nn.MultiheadAttention is split as the Keras MHA is: q/k/v projections, scores, mask, softmax,
    context, output projection; GQA keeps its key/value heads; the weights are the module's."""
    torch.manual_seed(0)
    m = MHAModel(mask="causal").eval()
    g = _convert(m, torch.randn(2, T, D)).graph
    kinds = [op.kind for op in g.ops]
    assert kinds == ["linear", "linear", "linear", "scores", "mask", "softmax", "context", "linear"]
    q = g.op("mha_in_proj_query")
    np.testing.assert_array_equal(q.kernel, m.mha.in_proj_weight.detach().double().numpy()[:D].T)
    s = next(op for op in g.ops if op.kind == "scores")
    assert (s.num_heads, s.num_kv_heads, s.key_dim) == (H, H, D // H)
    mask = next(op for op in g.ops if op.kind == "mask")
    assert mask.causal and mask.offset == 0 and not mask.inputs
    g = _convert(SDPAModel(kv_heads=1).eval(), torch.randn(2, T, D)).graph
    s = next(op for op in g.ops if op.kind == "scores")
    assert (s.num_heads, s.num_kv_heads) == (H, 1)
    g = _convert(LlamaBlock().eval(), torch.randn(2, T, D)).graph
    ropes = [op for op in g.ops if op.kind == "rope"]
    assert [(op.head_dim, op.rope_dim, op.base) for op in ropes] == [(D // H, D // H, 10000.0)] * 2


@pytest.mark.gxx
@pytest.mark.slow
def test_csim_equals_predict() -> None:
    torch.manual_seed(1)
    model = AllAttention().eval()
    x = torch.randn(6, T, D)
    pad = torch.rand(6, T) < 0.3  # True hides a key
    pad[:, 0] = False
    xs = [x.numpy(), pad.numpy().astype(np.float64)]
    proj = hlsgen.convert(model, WIDE, example_input=[x, pad], calibration_data=xs)
    with torch.no_grad():
        ref = model(x, pad).double().numpy()
    y = proj.predict(xs)
    assert _rel_err(y, ref) < 0.02
    np.testing.assert_array_equal(proj.csim(xs), y)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head((x + self.mha(x, x, x, need_weights=False)[0]).mean(dim=1))


@pytest.mark.verilator
@pytest.mark.slow
def test_pt2_convert_and_cosim_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A saved torch.export program through the command line: convert, then cosim bit-exact."""
    torch.manual_seed(2)
    model = Tiny().eval()
    x = torch.randn(3, 4, 8)
    torch.export.save(torch.export.export(model, (x,)), tmp_path / "tiny.pt2")
    np.save(tmp_path / "x.npy", x.numpy())
    prj = tmp_path / "prj"
    # both commands in this process (helpers.run_cli): torch is loaded already, where a subprocess would
    # import it again (~10 s at load 4); test_cosim's CLI test keeps the ``python -m hlsgen.cli`` entry
    code, out, err = run_cli(
        capsys, "convert", str(tmp_path / "tiny.pt2"), "-o", str(prj), "--precision", "ap_fixed<18,6>",
        "--tb-data", str(tmp_path / "x.npy"),
    )  # fmt: skip
    assert code == 0, out + err
    assert (prj / "model" / "tiny.pt2").is_file()
    code, out, err = run_cli(capsys, "cosim", str(prj))
    assert code == 0, out + err
    assert "bit-exact against the reference in every run" in out
    proj = hlsgen.Project.load(prj)
    with torch.no_grad():
        ref = model(x).double().numpy()
    assert _rel_err(proj.predict(x.numpy()), ref) < 0.05  # ap_fixed<18,6>, no calibration


def test_pickled_module_file(tmp_path: Path) -> None:
    torch.manual_seed(3)
    model = MLPModel().eval()
    torch.save(model, tmp_path / "mlp.pt")
    x = torch.randn(4, T, D)
    proj = hlsgen.convert(tmp_path / "mlp.pt", WIDE, example_input=x.numpy(), calibration_data=x.numpy())
    with torch.no_grad():
        ref = model(x).double().numpy()
    assert _rel_err(proj.predict(x.numpy()), ref) < 0.02
    with pytest.raises(ValueError, match="example_input"):
        hlsgen.convert(tmp_path / "mlp.pt", WIDE)


class Unsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(D, D)
        self.b = nn.Sequential(nn.Linear(D, D), nn.Softplus())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(self.a(x), dim=1) + self.b(x)


def test_unsupported_ops_listed_in_one_error() -> None:
    with pytest.raises(UnsupportedModelError) as e:
        hlsgen.convert(Unsupported().eval(), WIDE, example_input=torch.randn(2, T, D))
    msg = str(e.value)
    assert "2 unsupported op(s)" in msg
    assert "aten.cumsum" in msg and "(Unsupported)" in msg
    assert "b.1 (Softplus): op aten.softplus" in msg


def test_importing_hlsgen_does_not_import_torch() -> None:
    code = (
        "import sys, hlsgen, hlsgen.cli, hlsgen.frontend; assert 'torch' not in sys.modules, 'torch imported'"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------------------------------
# ONNX: torch.onnx.export (opset 17) of the same modules
# ---------------------------------------------------------------------------------------------------
ONNX_CASES = [
    "mlp",
    "mha_seq_first",
    "mha_causal_float_mask",
    "mha_kdim_vdim",
    "encoder_pre_norm_gelu",
    "encoder_post_norm_relu_2_layers",
    "sdpa_gqa",
    "hand_written",
]


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("case", ONNX_CASES)
def test_onnx_predict_matches_module(case: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = CASES[case]().eval()
    bd = 1 if "seq_first" in case else 0
    x = torch.randn((4, T, D) if bd == 0 else (T, 4, D))
    path = tmp_path / f"{case}.onnx"
    torch.onnx.export(model, (x,), str(path), opset_version=17, dynamo=False)
    xb = np.moveaxis(x.numpy(), bd, 0)
    proj = hlsgen.convert(path, WIDE, batch_dim=bd, calibration_data=xb)
    with torch.no_grad():
        ref = np.moveaxis(model(x).double().numpy(), bd, 0)
    assert _rel_err(proj.predict(xb), ref) < 0.02
    # the same primitives as the PyTorch front end builds
    kinds = sorted(op.kind for op in proj.graph.ops)
    assert kinds == sorted(op.kind for op in _convert(model, x, bd).graph.ops)


def test_onnx_unsupported_ops_listed(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    path = tmp_path / "u.onnx"
    torch.onnx.export(
        Unsupported().eval(), (torch.randn(2, T, D),), str(path), opset_version=17, dynamo=False
    )
    with pytest.raises(UnsupportedModelError, match=r"2 unsupported op\(s\)") as e:
        hlsgen.convert(path, WIDE)
    assert "CumSum" in str(e.value) and "Softplus" in str(e.value)


# ---------------------------------------------------------------------------------------------------
# Brevitas QAT: power-of-two quantizers read exactly
# ---------------------------------------------------------------------------------------------------
def _brevitas_model(weight_quant: str = "Int8WeightPerTensorFixedPoint") -> nn.Module:
    qnn = pytest.importorskip("brevitas.nn")
    import brevitas.quant as bq

    class QAT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            act = bq.Int8ActPerTensorFixedPoint
            wq = getattr(bq, weight_quant)
            self.inp = qnn.QuantIdentity(act_quant=act, return_quant_tensor=False)
            self.fc = qnn.QuantLinear(D, 8, bias=True, weight_quant=wq, return_quant_tensor=False)
            self.relu = qnn.QuantReLU(act_quant=bq.Uint8ActPerTensorFixedPoint, return_quant_tensor=False)
            self.fc2 = qnn.QuantLinear(8, 4, bias=False, weight_quant=wq, return_quant_tensor=False)
            self.out = qnn.QuantIdentity(act_quant=act, return_quant_tensor=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.out(self.fc2(self.relu(self.fc(self.inp(x)))))

    torch.manual_seed(4)
    m = QAT()
    with torch.no_grad():  # a float bias on the 2^-10 grid: exact in float32 sums and in ap_fixed<24,8>
        m.fc.bias.copy_(torch.round(m.fc.bias * 1024) / 1024)
    return m.eval()


@pytest.mark.parametrize("weight_quant", ["Int8WeightPerTensorFixedPoint", "Int8WeightPerTensorFloat"])
def test_brevitas_emulation_equals_forward(weight_quant: str) -> None:
    """QuantIdentity / QuantLinear / QuantReLU with power-of-two activation scales: the emulation equals
    Brevitas's forward pass bit for bit (inputs on the input type's grid: no double rounding). Weights of
    a float-scale quantizer are int8 times a float32 scale, exact in a wider fixed-point type."""
    m = _brevitas_model(weight_quant)
    x = torch.round(torch.randn(8, 4, D) * 256) / 256
    proj = hlsgen.convert(m, WIDE, example_input=x)
    with torch.no_grad():
        ref = m(x).double().numpy()
    np.testing.assert_array_equal(proj.predict(x.numpy()), ref)
    types = {op.name: op.types for op in proj.graph.ops}
    assert str(types["inp_quant"]["y"]) == "ap_fixed<8,1,AP_RND_CONV,AP_SAT>"
    assert str(types["relu_quant"]["y"]) == "ap_ufixed<8,0,AP_RND_CONV,AP_SAT>"
    if weight_quant.endswith("FixedPoint"):
        assert types["fc"]["weight"].width == 8


def test_brevitas_float_scale_activation_refused() -> None:
    qnn = pytest.importorskip("brevitas.nn")
    from brevitas.quant import Int8ActPerTensorFloat

    q = qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=False)
    q.train()
    torch.manual_seed(5)
    for _ in range(20):  # runtime statistics set a scale that is no power of two
        q(torch.randn(64, D) * 3)
    model = nn.Sequential(q, nn.Linear(D, 4)).eval()
    with pytest.raises(
        UnsupportedModelError, match=r"0 \(QuantIdentity\): quantizer: scale .* not a power of two"
    ):
        hlsgen.convert(model, WIDE, example_input=torch.randn(2, T, D))


def test_pt_file_through_the_command_line(tmp_path: Path) -> None:
    """hlsgen convert model.pt traces the module on the first --calibration sample; the project keeps
    the traced program (model/mlp.pt2), so that hlsgen predict PROJECT converts it again alone."""
    from hlsgen.cli import main

    torch.manual_seed(6)
    model = MLPModel().eval()
    torch.save(model, tmp_path / "mlp.pt")
    x = torch.randn(5, T, D)
    np.save(tmp_path / "x.npy", x.numpy())
    prj = tmp_path / "prj"
    assert main(["convert", str(tmp_path / "mlp.pt"), "-o", str(prj), "--calibration", str(tmp_path / "x.npy"),
                 "--precision", "ap_fixed<24,8>"]) == 0  # fmt: skip
    assert [p.name for p in (prj / "model").iterdir()] == ["mlp.pt2"]
    proj = hlsgen.Project.load(prj)
    with torch.no_grad():
        ref = model(x).double().numpy()
    assert _rel_err(proj.predict(x.numpy()), ref) < 0.02
    assert main(["convert", str(tmp_path / "mlp.pt"), "-o", str(tmp_path / "p2")]) == 2


@pytest.mark.parametrize("case", ["sdpa_gqa", "hand_written", "llama_rope_gqa"])
def test_causal_model_decodes_as_it_prefills(case: str) -> None:
    """A causal PyTorch block (GQA by repeat_interleave / expand; nanoGPT attention; RoPE) gets the decode
    design of the Keras layers: token by token with the KV cache on chip equals predict bit for bit."""
    torch.manual_seed(7)
    model = CASES[case]().eval()
    x = torch.randn(3, T, D)
    proj = hlsgen.convert(model, {"default_precision": "ap_fixed<18,6>"}, example_input=x)
    dec = proj.decoder()
    steps = np.stack([dec.step(x.numpy()[:, t]) for t in range(T)], axis=1)
    np.testing.assert_array_equal(steps, proj.predict(x.numpy()))
