"""Brevitas QuantMultiheadAttention through QONNX: how far hlsgen's emulation is from the Brevitas forward
pass with torch's float softmax, and that it is bit-exact with hlsgen's softmax in its place.

    .venv/bin/python benchmarks/bench_qonnx_mha.py [--seeds 8] [--batch 16]

One block per seed (d_model 16, 4 heads of 4, power-of-two quantizers everywhere, a residual add and a
QuantLinear head; the block of tests/test_qonnx.py), exported with brevitas.export.export_qonnx and
converted at ap_fixed<24,8>. Columns: the largest |emulation - Brevitas| over the largest |Brevitas output|,
the share of outputs that differ at all (both with torch's softmax), and whether the outputs are equal
bit for bit with the converted graph's Softmax op substituted for torch's.
"""

from __future__ import annotations

import argparse
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np

D, H, T = 16, 4, 6
WIDE = {"default_precision": "ap_fixed<24,8>"}


def block(seed: int, mask: bool):
    import brevitas.nn as qnn
    import brevitas.quant as bq
    import torch

    a8, u8, w8 = (
        bq.Int8ActPerTensorFixedPoint,
        bq.Uint8ActPerTensorFixedPoint,
        bq.Int8WeightPerTensorFixedPoint,
    )

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = qnn.QuantIdentity(act_quant=a8, return_quant_tensor=False)
            self.mha = qnn.QuantMultiheadAttention(
                D, H, batch_first=True, in_proj_input_quant=a8, in_proj_weight_quant=w8,
                in_proj_bias_quant=bq.Int32Bias, attn_output_weights_quant=u8, q_scaled_quant=a8,
                k_transposed_quant=a8, v_quant=a8, out_proj_input_quant=a8, out_proj_weight_quant=w8,
                out_proj_bias_quant=bq.Int32Bias,
            )  # fmt: skip
            self.head = qnn.QuantLinear(
                D, 4, bias=False, weight_quant=w8, input_quant=a8, return_quant_tensor=False
            )

        def forward(self, x):
            x = self.inp(x)
            kw = {"attn_mask": torch.nn.Transformer.generate_square_subsequent_mask(T)} if mask else {}
            return self.head(x + self.mha(x, x, x, need_weights=False, **kw)[0])

    torch.manual_seed(seed)
    m = Block()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("weight"):
                p.mul_(2.0)
            elif name.endswith("bias"):
                p.copy_(torch.round(torch.randn_like(p) * 0.1 * 1024) / 1024)
    return m.eval()


def hlsgen_softmax(proj):
    import torch

    from hlsgen.fixed import from_raw, to_raw

    sm = next(op for op in proj.graph.ops if op.kind == "softmax")
    per = proj.graph.tensors[sm.inputs[0]].shape

    def softmax(s, dim=-1, **_):
        a = s.double().numpy()
        keep = np.isfinite(a)
        raw = to_raw(np.where(keep, a, 0.0), sm.types["x"]).reshape(-1, *per)
        k4 = keep.reshape(-1, *per)
        out = sm.execute(raw) if keep.all() else sm.execute(raw, k4[:, 0].astype(np.int64))
        return torch.from_numpy(from_raw(out[0], sm.types["y"]).reshape(a.shape)).float()

    f = torch.nn.functional
    return types.SimpleNamespace(softmax=softmax, dropout=f.dropout, pad=f.pad)


def forward(m, x, functional=None):
    import brevitas.nn.quant_mha as qm
    import torch

    saved = qm.F
    qm.F = functional or saved
    try:
        with torch.no_grad():
            return m(x).double().numpy()
    finally:
        qm.F = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch
    from brevitas.export import export_qonnx

    import hlsgen

    print(
        f"{'seed':>4} {'mask':>6} {'max err / max |y|':>18} {'outputs differing':>18} {'hlsgen softmax':>15}"
    )
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for mask in (False, True):
                m = block(seed, mask)
                x = (
                    torch.round(
                        torch.randn(args.batch, T, D, generator=torch.Generator().manual_seed(seed)) * 64
                    )
                    / 64
                )
                path = Path(tmp) / f"b{seed}{int(mask)}.onnx"
                export_qonnx(m, x, export_path=str(path), dynamo=False, opset_version=17)
                proj = hlsgen.convert(path, WIDE)
                y = proj.predict(x.numpy())
                ref = forward(m, x)
                rel = float(np.abs(y - ref).max() / np.abs(ref).max())
                worst = max(worst, rel)
                exact = np.array_equal(y, forward(m, x, hlsgen_softmax(proj)))
                print(
                    f"{seed:>4} {str(mask):>6} {rel:>18.4%} {np.mean(y != ref):>18.1%} {'bit-exact' if exact else 'DIFFERS':>15}"
                )
    print(f"worst: {worst:.4%} of the largest output (torch's softmax)")


if __name__ == "__main__":
    main()
