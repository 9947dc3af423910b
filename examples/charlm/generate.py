"""Generate text greedily from the trained character LM three ways and compare them.

    python examples/charlm/generate.py                       # float Keras, emulation and csim
    python examples/charlm/generate.py --prompt "Now is" --no-csim

1. float: the Keras model on the whole prefix at every step (causal, so the last row is the next
   character's logits);
2. emulation: hlsgen's bit-exact decode session, one character per step, the KV latents cached;
3. csim: the generated decode top function compiled with g++, its caches in static arrays.

The model is converted with types from calibration on the training text (ap_fixed<16,*>). Prints the
three texts, how many generated characters agree, and the cache against the MHA twin (the same model
with multi-head attention of the same heads).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def greedy_float(model, vocab: list[str], prompt: list[int], total: int, seq: int) -> list[int]:
    import numpy as np
    from data import one_hot

    ids = list(prompt)
    while len(ids) < total:
        x = np.zeros((1, seq), dtype=np.int64)
        x[0, : len(ids)] = ids
        logits = model(one_hot(x, len(vocab)), training=False).numpy()
        ids.append(int(np.argmax(logits[0, len(ids) - 1])))
    return ids


def greedy_decoder(dec, vocab: list[str], prompt: list[int], total: int) -> list[int]:
    import numpy as np
    from data import one_hot

    dec.reset()
    ids = list(prompt)
    for t in range(total - 1):
        logits = dec.step(one_hot(np.array(ids[t]), len(vocab)))
        if t + 1 >= len(ids):
            ids.append(int(np.argmax(logits)))
    return ids


def main() -> None:
    import tensorflow as tf
    from data import SEQ, vocabulary, windows, zen
    from train import build

    import hlsgen
    import hlsgen.layers  # noqa: F401  (registers the layers with Keras)

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=HERE / "charlm.keras")
    ap.add_argument("--prompt", default="Beautiful is ")
    ap.add_argument("--length", type=int, default=SEQ, help="characters in all, prompt included (<= 32)")
    ap.add_argument("--precision", default="ap_fixed<16,6>", help="width of every calibrated type")
    ap.add_argument("--no-csim", action="store_true")
    args = ap.parse_args()

    vocab = json.loads((args.model.parent / "charlm_vocab.json").read_text())
    if vocab != vocabulary(zen()):
        print("note: this Python's Zen text differs from the one the model was trained on")
    index = {c: i for i, c in enumerate(vocab)}
    bad = sorted({c for c in args.prompt if c not in index})
    if bad or not args.prompt:
        raise SystemExit(f"the prompt needs characters of the Zen of Python; not in the vocabulary: {bad}")
    if not len(args.prompt) < args.length <= SEQ:
        raise SystemExit(f"--length must exceed the prompt and be at most {SEQ}")
    prompt = [index[c] for c in args.prompt]
    model = tf.keras.models.load_model(args.model, compile=False)

    x, _ = windows(zen(), vocab, SEQ)
    base = {"project_name": "charlm", "default_precision": args.precision, "decode": {"max_length": SEQ}}
    cfg, _ = hlsgen.calibrate(model, x, base)
    proj = hlsgen.convert(model, cfg)

    def text(ids: list[int]) -> str:
        return "".join(vocab[i] for i in ids).replace("\n", "\\n")

    runs = {"float": greedy_float(model, vocab, prompt, args.length, SEQ)}
    runs["emulation"] = greedy_decoder(proj.decoder(), vocab, prompt, args.length)
    if not args.no_csim:
        runs["csim"] = greedy_decoder(proj.decoder("csim"), vocab, prompt, args.length)
    n = args.length - len(prompt)
    for k, ids in runs.items():
        print(f"{k:>9}: {text(ids)!r}")

    def agree(a: list[int], b: list[int]) -> int:
        return sum(x == y for x, y in zip(a[len(prompt) :], b[len(prompt) :], strict=True))

    print(
        f"generated {n} characters; emulation agrees with float on {agree(runs['float'], runs['emulation'])}"
    )
    if "csim" in runs:
        print(
            f"csim agrees with emulation on {agree(runs['emulation'], runs['csim'])} of {n} (bit-exact: all)"
        )

    print()
    rep = proj.cache_report()
    print(rep.table())
    twin = hlsgen.convert(build(len(vocab), SEQ, "mha"), base).cache_report()
    mla_b, mha_b = rep.total("bits_per_token") / 8, twin.total("bits_per_token") / 8
    print(
        f"\nKV cache per token: MLA {mla_b:.0f} bytes, the MHA twin {mha_b:.0f} bytes ({mha_b / mla_b:.1f}x); "
        f"for {SEQ} tokens {mla_b * SEQ / 1024:.2f} KiB against {mha_b * SEQ / 1024:.2f} KiB"
    )


if __name__ == "__main__":
    main()
