"""The Keras model and the input data of a :class:`~hlsgen.fuzz.spec.ModelSpec`.

Weights are drawn at random (every kernel, bias, LayerNorm gamma and beta, of the spec's scale) rather
than left at Keras's initial values (zero biases, unit gammas), so that every path carries signal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .spec import BlockKind, BlockSpec, ModelSpec, Pool

W8 = "quantized_bits(8,1,alpha=1)"
W6 = "quantized_bits(6,0,alpha=1)"


def build_model(spec: ModelSpec) -> Any:
    """The tf.keras model of ``spec`` (deterministic in ``spec.seed``)."""
    import tensorflow as tf

    from ..layers import GroupedQueryAttention, MultiHeadLatentAttention, RotaryEmbedding

    tf.keras.utils.set_random_seed(spec.seed)
    L = tf.keras.layers
    n_tok, n_mem, n_mask, n_embed, n_head, n_pool = spec.names
    x = tf.keras.Input((spec.seq, spec.d_in), name=n_tok)
    inputs = [x]
    mem = mask = None
    if spec.mem_seq:
        mem = tf.keras.Input((spec.mem_seq, spec.d_in), name=n_mem)
        inputs.append(mem)
    if spec.has_mask:
        mask = tf.keras.Input((spec.seq, spec.mask_keys), name=n_mask)
        inputs.append(mask)
    h = L.Dense(spec.d_model, name=n_embed)(x)
    if spec.rope_in:
        h = RotaryEmbedding(spec.d_model, rope_dim=2, name=f"{n_embed}_rope")(h)
    for b in spec.blocks:
        h = _block(spec, b, h, mem, mask, tf, GroupedQueryAttention, MultiHeadLatentAttention)
    trunk = h
    if spec.pool == Pool.AVERAGE:
        h = L.GlobalAveragePooling1D(name=n_pool)(h)
    elif spec.pool == Pool.FLATTEN:
        h = L.Flatten(name=n_pool)(h)
    y = L.Dense(spec.head_dim, activation=spec.head_activation, name=n_head)(h)
    outputs = [y, trunk] if spec.second_output else [y]
    model = tf.keras.Model(inputs, outputs if len(outputs) > 1 else y, name=f"fuzz{spec.seed}")
    _randomize(model, spec)
    return model


def _block(spec: ModelSpec, b: BlockSpec, h: Any, mem: Any, mask: Any, tf: Any, gqa: Any, mla: Any) -> Any:
    L = tf.keras.layers
    out_dim = b.out_dim or None
    quant = {"kernel_quantizer": W8, "bias_quantizer": W8} if b.quantized else {}
    if b.kind == BlockKind.MHA:
        args = (b.heads, b.key_dim)
        kw0 = {
            "value_dim": b.value_dim or None,
            "use_bias": b.use_bias,
            "output_shape": out_dim,
            "name": b.name,
        }
        if b.quantized:  # hlsgen's quantization-aware MHA: QKeras quantizers on every stage
            from ..layers import QMultiHeadAttention

            layer = QMultiHeadAttention(
                *args, **kw0, **quant, score_quantizer="quantized_bits(14,5,alpha=1)",
                probability_quantizer="quantized_bits(10,0,alpha=1)", context_quantizer=W8,
            )  # fmt: skip
        else:
            layer = L.MultiHeadAttention(*args, **kw0)
        kw: dict[str, Any] = {}
        src = mem if b.cross else h
        if b.key_proj:
            kw["key"] = L.Dense(spec.d_model, name=f"{b.name}_key")(mem)
        if b.padding_mask:
            kw["attention_mask"] = mask
        if b.causal:
            kw["use_causal_mask"] = True
        a = layer(h, src, **kw)
    elif b.kind == BlockKind.GQA:
        a = gqa(
            b.heads, b.kv_heads, b.key_dim, value_dim=b.value_dim or None, use_bias=b.use_bias,
            output_dim=out_dim, rope_dim=b.rope_dim, name=b.name, **quant,
        )(h)  # fmt: skip
    elif b.kind == BlockKind.MLA:
        a = mla(
            b.heads, b.key_dim, b.latent, value_dim=b.value_dim or None, q_latent_dim=b.q_latent,
            rope_dim=b.rope_dim, output_dim=out_dim, name=b.name,
        )(h)  # fmt: skip
    else:
        if b.quantized:
            from qkeras import QActivation, QDense

            t = QDense(b.out_dim, kernel_quantizer=W6, bias_quantizer=W6, name=b.name)(h)
            t = QActivation("quantized_relu(8,3)", name=f"{b.name}_act")(t)
            a = QDense(spec.d_model, kernel_quantizer=W6, bias_quantizer=W6, name=f"{b.name}_out")(t)
        else:
            t = L.Dense(b.out_dim, activation=b.activation, use_bias=b.use_bias, name=b.name)(h)
            a = L.Dense(spec.d_model, use_bias=b.use_bias, name=f"{b.name}_out")(t)
    if b.dropout:
        a = L.Dropout(0.25, name=f"{b.name}_drop")(a)
    if b.residual and a.shape[-1] == h.shape[-1]:
        a = L.Add(name=f"{b.name}_res")([h, a])
    if b.norm:
        a = L.LayerNormalization(name=f"{b.name}_norm")(a)
    if a.shape[-1] != spec.d_model:  # keep the trunk at d_model
        a = L.Dense(spec.d_model, name=f"{b.name}_fit")(a)
    return a


def _randomize(model: Any, spec: ModelSpec) -> None:
    """Every weight drawn from N(0, scale^2 / fan_in) (kernels) or N(0, (0.3 scale)^2) (biases, norms)."""
    rng = np.random.default_rng(spec.seed + 1)
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for w in ws:
            if w.ndim >= 2:
                fan_in = int(np.prod(w.shape[:-1])) if w.ndim == 2 else int(w.shape[0])
                new.append(rng.normal(0, spec.weight_scale / np.sqrt(max(fan_in, 1)), w.shape))
            elif "Normalization" in type(layer).__name__ and len(new) == 0:
                new.append(1.0 + rng.normal(0, 0.3, w.shape))  # gamma
            else:
                new.append(rng.normal(0, 0.3 * spec.weight_scale, w.shape))
        layer.set_weights([n.astype(w.dtype) for n, w in zip(new, ws, strict=True)])


def make_data(spec: ModelSpec, batch: int | None = None) -> list[np.ndarray]:
    """The inputs of ``spec``'s model: N(0, input_scale^2) tokens, a 0/1 padding mask (a fully masked row
    now and then), in the model's input order."""
    rng = np.random.default_rng(spec.seed + 2)
    n = batch or spec.batch
    xs = [(spec.input_scale * rng.normal(size=(n, spec.seq, spec.d_in))).astype(np.float32)]
    if spec.mem_seq:
        xs.append((spec.input_scale * rng.normal(size=(n, spec.mem_seq, spec.d_in))).astype(np.float32))
    if spec.has_mask:
        m = (rng.random((n, spec.seq, spec.mask_keys)) > 0.4).astype(np.float32)
        if rng.random() < 0.5:
            m[:, :, 0] = 1.0
        xs.append(m)
    return xs
