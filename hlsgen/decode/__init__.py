"""Token-by-token decode: sessions over the bit-exact emulation and over csim, and the cache report.

A session runs the decode design of a converted causal model (:func:`hlsgen.quant.decode_pass.to_decode`)
one token per call, with the key/value (or latent) caches kept between calls::

    proj = hlsgen.convert("lm.keras", {"decode": {"max_length": 64}})
    dec = proj.decoder()            # bit-exact NumPy emulation; proj.decoder("csim") runs the C++
    for x in tokens:                # x: one token's features [D] (or [B, D] in emulation)
        y = dec.step(x)             # the outputs of this token; dec.position counts the tokens
    dec.reset()                     # a new sequence

Decoding a sequence token by token equals ``proj.predict`` on the whole sequence bit for bit (row ``t``
of prefill is step ``t``). Past ``max_length`` tokens, ``step`` raises :class:`DecodeOverflowError` in
both modes. The hardware itself never overwrites its cache: its top function sets the ``overflow`` output,
leaves the cache and the position as they are and outputs zeros (the csim session reads that flag and
raises). ``reset`` sets the position to 0; cache rows are not cleared, because a row past the position
is never read with a nonzero weight (the decode mask gives it probability exactly 0).

Multi-head latent attention decodes in one of two forms (``config.decode.mla_form``, or ``form=``):
``recompute`` up-projects every cached latent to keys and values at every step; ``absorbed`` applies
W_UK^T to the query (``q_h W_UK,h^T``, one block-diagonal product per token) and scores it against the
cached latents directly, sums the latents weighted by the probabilities (``P_h C``) and applies W_UV,h
to that once. No product of weight matrices is formed: both forms multiply by the same quantized
matrices, every intermediate keeps its exact type (e.g. ap_fixed<28,8> for the absorbed query and
ap_fixed<37,13> for the latent context in examples/charlm), so no rounding enters besides prefill's own
casts (scores, context), and both forms equal prefill bit for bit. The price is wider multipliers.
"""

from __future__ import annotations

from ..ir.ops.cache import DecodeOverflowError
from ..quant.decode_session import decode_session
from .design import decode_design
from .report import CacheReport, CacheRow, cache_report
from .session import CsimDecoder, Decoder, EmulationDecoder, open_decoder

__all__ = [
    "CacheReport",
    "CacheRow",
    "CsimDecoder",
    "DecodeOverflowError",
    "Decoder",
    "decode_session",
    "EmulationDecoder",
    "cache_report",
    "decode_design",
    "open_decoder",
]
