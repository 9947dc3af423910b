"""The main job on the bundled examples: convert the digits transformers and the keras.io-style text
classifier, emulate, csim, compare."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .resources import REPO_ROOT

#: precision of float layers in the demo (calibration picks the integer bits, this the width)
FLOAT_PRECISION = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"


def _examples() -> Path:
    d = REPO_ROOT / "examples" / "digits"
    if not (d / "digits_float.keras").is_file():
        raise FileNotFoundError(f"the digits example is not here ({d}): run the demo from a source checkout")
    return d


def run_demo(out_dir: Path, force: bool = True) -> int:
    """Convert both digits models, emulate and csim the test split, write the projects; 0 when bit-exact."""
    from .convert import convert
    from .frontend.keras import load_model

    ex = _examples()
    sys.path.insert(0, str(ex))
    from data import load_digits_tokens  # type: ignore[import-not-found]

    x_tr, y_tr, x_te, y_te = load_digits_tokens()
    print(f"digits: {len(x_tr)} training and {len(x_te)} test samples, 8 tokens x 8 pixels\n")
    rows = []
    status = 0
    for kind in ("float", "qat"):
        path = ex / f"digits_{kind}.keras"
        if not path.is_file():
            print(f"{path.name}: missing, skipped (train it with examples/digits/train.py)")
            continue
        model = load_model(path)
        t0 = time.perf_counter()
        cfg = {"project_name": f"digits_{kind}", "default_precision": FLOAT_PRECISION}
        calib = x_tr if kind == "float" else None
        proj = convert(model, cfg, calibration_data=calib)
        t_conv = time.perf_counter() - t0
        y_keras = model.predict(x_te, verbose=0, batch_size=512)
        t0 = time.perf_counter()
        y_emu = proj.predict(x_te)
        t_emu = time.perf_counter() - t0
        raw_emu = proj.predict_raw(x_te)
        t0 = time.perf_counter()
        raw_csim = proj.csim_raw(x_te)
        t_csim = time.perf_counter() - t0
        same = all(
            np.array_equal(np.asarray(a).reshape(b.shape), b) for a, b in zip(raw_emu, raw_csim, strict=True)
        )
        out = proj.write(out_dir / f"digits_{kind}", force=force, tb_data=x_te[:64], model_source=path)
        acc_f = float(np.mean(np.argmax(y_keras, -1) == y_te))
        acc_q = float(np.mean(np.argmax(y_emu, -1) == y_te))
        agree = float(np.mean(np.argmax(y_keras, -1) == np.argmax(y_emu, -1)))
        rows.append(
            (kind, acc_f, acc_q, agree, same, t_conv, t_emu, t_csim, proj.last_build_seconds or 0.0, out)
        )
        status |= 0 if same else 1
    text = _text_classifier(out_dir, force)
    if text is not None:
        rows.append(text)
        status |= 0 if text[4] else 1
    print(
        f"{'model':<7} {'Keras float':>11} {'hlsgen fixed':>12} {'argmax agree':>12} {'csim == emulation':>18}"
    )
    for kind, acc_f, acc_q, agree, same, *_ in rows:
        print(
            f"{kind:<7} {acc_f:>11.4f} {acc_q:>12.4f} {agree:>12.4f} {('bit-exact' if same else 'MISMATCH'):>18}"
        )
    print()
    for kind, *_, t_conv, t_emu, t_csim, t_build, out in rows:
        print(
            f"{kind}: convert {t_conv:.1f} s, emulation {t_emu * 1e3:.0f} ms, csim {t_csim:.1f} s "
            f"(g++ build {t_build:.1f} s), project in {out}"
        )
    return status


#: precision of the text classifier (calibration picks the integer bits, this the width)
TEXT_PRECISION = "ap_fixed<18,8,AP_RND_CONV,AP_SAT>"


def _text_classifier(out_dir: Path, force: bool) -> tuple | None:
    """The keras.io text classifier of examples/textcls (token + position embeddings, a subclassed
    transformer block): one row of the demo's table."""
    from .convert import convert
    from .frontend.keras import load_model

    ex = REPO_ROOT / "examples" / "textcls"
    path = ex / "textcls.keras"
    if not path.is_file():
        print(f"{path.name}: missing, skipped (train it with examples/textcls/train.py)")
        return None
    _load_module("textcls_model", ex / "model.py")  # registers the custom layers
    x_tr, _, x_te, y_te = _load_module("textcls_data", ex / "data.py").load_reviews()
    print(f"textcls: {len(x_tr)} training and {len(x_te)} test reviews, {x_te.shape[1]} tokens\n")
    model = load_model(path)
    t0 = time.perf_counter()
    proj = convert(
        model, {"project_name": "textcls", "default_precision": TEXT_PRECISION}, calibration_data=x_tr
    )
    t_conv = time.perf_counter() - t0
    y_keras = model.predict(x_te, verbose=0, batch_size=512)
    t0 = time.perf_counter()
    y_emu = proj.predict(x_te)
    t_emu = time.perf_counter() - t0
    raw_emu = proj.predict_raw(x_te)
    t0 = time.perf_counter()
    raw_csim = proj.csim_raw(x_te)
    t_csim = time.perf_counter() - t0
    same = all(
        np.array_equal(np.asarray(a).reshape(b.shape), b) for a, b in zip(raw_emu, raw_csim, strict=True)
    )
    out = proj.write(out_dir / "textcls", force=force, tb_data=x_te[:64], model_source=path)
    acc_f = float(np.mean(np.argmax(y_keras, -1) == y_te))
    acc_q = float(np.mean(np.argmax(y_emu, -1) == y_te))
    agree = float(np.mean(np.argmax(y_keras, -1) == np.argmax(y_emu, -1)))
    return ("textcls", acc_f, acc_q, agree, same, t_conv, t_emu, t_csim, proj.last_build_seconds or 0.0, out)


def _load_module(name: str, path: Path) -> Any:
    """The example module at ``path`` under ``name`` (two examples both have a data.py)."""
    import importlib.util

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
