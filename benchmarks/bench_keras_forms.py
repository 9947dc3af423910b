"""Accuracy of the three Keras transformer forms of issue 12 (tests/test_keras_forms.py: the keras.io text
classifier, the keras.io time-series classifier, a ViT-like model with a GELU FFN), trained briefly, against
Keras float as the default precision widens; side by side with the baseline, activation tables spread over
the input type's whole range (``activation: {range_bits: I}``, what hlsgen did before).

Figures: max |hlsgen - Keras| / max |Keras| over 256 test inputs, and argmax agreement; calibration on 256
other inputs.

Run: .venv/bin/python benchmarks/bench_keras_forms.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import numpy as np  # noqa: E402

PRECISIONS = ("ap_fixed<18,8>", "ap_fixed<24,10>", "ap_fixed<32,12>")


def main() -> None:
    import tensorflow as tf
    import test_keras_forms as forms  # type: ignore[import-not-found]

    import hlsgen

    tf.keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    print(
        f"{'form':<7} {'precision':<16} {'error (tables: calibrated)':>27} {'agree':>7} {'error (baseline)':>17} {'agree':>7}"
    )
    for name, build in forms.FORMS.items():
        model, _ = build(rng)
        x = {
            "text": lambda n: forms._text_data(rng, n, 8, 12)[0],
            "series": lambda n: forms._series(rng, n, 16)[0],
        }
        make = x.get(name, lambda n: (rng.normal(size=(n, 8, 8)) * 0.5).astype(np.float32))
        calib, test = make(256), make(256)
        ref = model.predict(test, verbose=0)
        for p in PRECISIONS:
            row = []
            integer = int(p.split(",")[1].rstrip(">"))
            for extra in ({}, {"activation": {"range_bits": integer}}):
                proj = hlsgen.convert(model, {"default_precision": p, **extra}, calibration_data=calib)
                got = proj.predict(test)
                row += [
                    float(np.abs(got - ref).max() / np.abs(ref).max()),
                    float(np.mean(got.argmax(-1) == ref.argmax(-1))),
                ]
            print(f"{name:<7} {p:<16} {row[0]:>27.5f} {row[1]:>7.4f} {row[2]:>17.5f} {row[3]:>7.4f}")


if __name__ == "__main__":
    main()
