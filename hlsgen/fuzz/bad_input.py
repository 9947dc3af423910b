"""Bad input to the ``hlsgen`` command, generated: corrupt and truncated model files, data of the wrong
shape, dtype or values (NaN, inf, 1e30), empty batches, malformed precisions and configs, broken board files
and project folders. Every case must give one clear line on stderr naming what is wrong, a non-zero exit
status, no traceback, and leave nothing half-written.

:func:`make_cases` writes the files of every case under a folder (from one valid model and its project);
:func:`run_case` runs one through :func:`hlsgen.cli.main` in this process and says what is wrong with how it
failed ("" when it failed well).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class BadCase:
    """One bad invocation: ``argv`` of ``hlsgen``, and the words its error line must hold."""

    name: str
    argv: tuple[str, ...]
    expect: tuple[str, ...] = ()  #: substrings of the error line (case-insensitive)
    output: str = ""  #: a path the command must not create


@dataclass(frozen=True)
class Valid:
    """The valid material the cases are made from."""

    model: Path  #: a saved .keras model of input shape (T, D)
    data: Path  #: valid inputs (.npy)
    project: Path  #: its written project (with tb_data)
    seq: int
    features: int


def make_valid(folder: Path) -> Valid:
    """A small MHA model with a padding-free self-attention block, saved; data; its written project."""
    import tensorflow as tf

    from ..convert import convert

    folder.mkdir(parents=True, exist_ok=True)
    tf.keras.utils.set_random_seed(5)
    t, d = 4, 8
    x = tf.keras.Input((t, d), name="x")
    h = tf.keras.layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    y = tf.keras.layers.Dense(3, name="head")(tf.keras.layers.GlobalAveragePooling1D(name="pool")(h))
    tf.keras.Model(x, y).save(folder / "model.keras")
    data = np.random.default_rng(0).normal(size=(4, t, d)).astype(np.float32)
    np.save(folder / "x.npy", data)
    proj = convert(str(folder / "model.keras"))
    proj.write(folder / "prj", tb_data=data, model_source=folder / "model.keras")
    return Valid(folder / "model.keras", folder / "x.npy", folder / "prj", t, d)


def make_cases(folder: Path, v: Valid) -> list[BadCase]:
    """Write the files of every bad case under ``folder``; the cases."""
    f = folder
    f.mkdir(parents=True, exist_ok=True)
    m, x, prj = str(v.model), str(v.data), str(v.project)
    raw = v.model.read_bytes()
    cases: list[BadCase] = []

    def file(name: str, content: bytes | str) -> str:
        p = f / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(p)

    def npy(name: str, a: np.ndarray) -> str:
        p = f / name
        np.save(p, a)
        return str(p)

    def convert(name: str, model: str, *extra: str, expect: tuple[str, ...] = ()) -> None:
        out = str(f / f"out_{name}")
        cases.append(BadCase(name, ("convert", model, "-o", out, *extra), expect, out))

    # -- model files ---------------------------------------------------------------------------------
    convert("missing_model", str(f / "nope.keras"), expect=("nope.keras", "does not exist"))
    convert("empty_model", file("empty.keras", b""), expect=("empty.keras",))
    convert(
        "random_bytes", file("noise.keras", np.random.default_rng(1).bytes(2000)), expect=("noise.keras",)
    )
    for frac in (0.1, 0.5, 0.9):
        convert(
            f"truncated_{frac}", file(f"trunc{frac}.keras", raw[: int(len(raw) * frac)]), expect=("trunc",)
        )
    convert("wrong_suffix", file("model.txt", raw), expect=("model.txt", ".keras"))
    (f / "notsaved").mkdir(exist_ok=True)
    convert("folder_not_savedmodel", str(f / "notsaved"), expect=("notsaved", "savedmodel"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata.json", "{}")
    convert("zip_without_config", file("noconfig.keras", buf.getvalue()), expect=("noconfig.keras",))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                data = data[: len(data) // 2]
            zout.writestr(item, data)
    convert("truncated_config_json", file("halfconfig.keras", buf.getvalue()), expect=("halfconfig.keras",))
    convert("h5_garbage", file("garbage.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64), expect=("garbage.h5",))

    # -- data ----------------------------------------------------------------------------------------
    t, d = v.seq, v.features
    good = np.load(v.data)

    def predict(name: str, data: str, expect: tuple[str, ...], *extra: str) -> None:
        out = str(f / f"y_{name}.npy")
        cases.append(BadCase(name, ("predict", prj, "--data", data, "-o", out, *extra), expect, out))

    predict("data_missing", str(f / "nodata.npy"), ("nodata.npy", "does not exist"))
    predict("data_not_npy", file("text.npy", "1 2 3\n"), ("text.npy",))
    predict("data_truncated", file("trunc.npy", v.data.read_bytes()[:100]), ("trunc.npy",))
    predict("data_wrong_features", npy("feat.npy", good[..., :-1]), ("shape", str(d)))
    predict("data_wrong_tokens", npy("tok.npy", good[:, :-1]), ("shape", str(t)))
    predict("data_no_batch_axis", npy("nobatch.npy", good[0]), ("shape",))
    predict("data_too_many_axes", npy("axes.npy", good[None]), ("shape",))
    predict("data_scalar", npy("scalar.npy", np.float32(1.0)), ("shape",))
    predict("data_empty_batch", npy("empty.npy", good[:0]), ("empty", "0 samples"))
    predict("data_strings", npy("str.npy", good.astype(str)), ("dtype",))
    predict("data_complex", npy("cplx.npy", good.astype(np.complex64)), ("dtype",))
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = good[0], good[1, :2]
    np.save(f / "obj.npy", obj, allow_pickle=True)
    predict("data_object", str(f / "obj.npy"), ("obj.npy",))
    for label, val in (("nan", np.nan), ("inf", np.inf), ("neg_inf", -np.inf)):
        bad = good.copy()
        bad[1, 2, 3] = val
        predict(f"data_{label}", npy(f"{label}.npy", bad), ("sample 1",))
    big = good.copy()
    big[0, 0, 0] = 1e30
    predict("data_1e30", npy("big.npy", big), ("1e+30", "sample 0"))
    np.savez(f / "two.npz", good, good)
    predict("data_two_arrays_one_input", str(f / "two.npz"), ("input",))
    cases.append(BadCase("csim_data_nan", ("csim", prj, "--data", str(f / "nan.npy")), ("sample 1",)))
    convert("tb_data_wrong_shape", m, "--tb-data", str(f / "feat.npy"), expect=("shape",))
    convert("calibration_nan", m, "--calibration", str(f / "nan.npy"), expect=("sample 1",))
    convert("calibration_empty", m, "--calibration", str(f / "empty.npy"), expect=("empty",))

    # -- precisions and configs ----------------------------------------------------------------------
    for k, p in enumerate(("ap_fixed<16,6", "ap_fixed<0,0>", "ap_fixed<16,6,AP_FOO>", "float", "ap_fixed<a,b>",
                           "ap_fixed<16,6,AP_RND,AP_SAT,x>", "ap_fixed<-4,2>", "ap_fixed<4096,6>")):  # fmt: skip
        convert(f"precision_{k}", m, "--precision", p, expect=("precision",) if k else ("ap_fixed<16,6",))
    configs: dict[str, tuple[str, tuple[str, ...]]] = {
        "not_yaml": ("a: [1, 2\n", ("yaml",)),
        "list": ("- 1\n- 2\n", ("mapping",)),
        "unknown_key": ("default_precison: ap_fixed<8,3>\n", ("default_precison", "default_precision")),
        "reuse_text": ("reuse_factor: two\n", ("reuse_factor",)),
        "reuse_zero": ("reuse_factor: 0\n", ("reuse_factor",)),
        "io_type": ("io_type: io_serial\n", ("io_type",)),
        "layer_precision": ("layers:\n  mha:\n    score: ap_fixed<8\n", ("mha", "score")),
        "layer_unknown_slot": ("layers:\n  mha:\n    scroe: ap_fixed<8,3>\n", ("scroe",)),
        "layer_not_mapping": ("layers:\n  mha: 3\n", ("mha",)),
        "softmax_bits": ("softmax:\n  exp_hi_bits: 0\n", ("exp_hi_bits",)),
        "layernorm_type": ("layernorm:\n  var_type: int\n", ("var_type",)),
        "decode_length": ("decode:\n  max_length: -1\n", ("max_length",)),
        "binary": ("\x00\x01\x02", ("config",)),
    }
    for name, (text, expect) in configs.items():
        convert(f"config_{name}", m, "--config", file(f"cfg_{name}.yml", text), expect=expect)
    convert("config_missing", m, "--config", str(f / "nocfg.yml"), expect=("nocfg.yml",))

    # -- boards --------------------------------------------------------------------------------------
    convert("board_unknown", m, "--board", "no-such-board", expect=("no-such-board",))
    boards = {
        "not_yaml": "part: [x\n",
        "empty": "",
        "no_part": "name: mine\nclock_period: 5\n",
        "negative": "name: mine\npart: xc7z020clg400-1\nclock_period: 5\nresources: {dsp: -3, lut: 10}\n",
        "clock_text": "name: mine\npart: xc7z020clg400-1\nclock_period: fast\n",
    }
    for name, text in boards.items():
        convert(f"board_{name}", m, "--board", file(f"board_{name}.yaml", text), expect=(f"board_{name}",))
    cases.append(BadCase("boards_broken_file", ("boards", str(f / "board_no_part.yaml")), ("board_no_part",)))

    # -- project folders -----------------------------------------------------------------------------
    def broken(name: str, change: Callable[[Path], None], expect: tuple[str, ...]) -> None:
        p = f / f"prj_{name}"
        if p.exists():
            shutil.rmtree(p)
        shutil.copytree(v.project, p)
        change(p)
        cases.append(BadCase(f"project_{name}", ("predict", str(p), "--data", x), expect))

    broken("no_model", lambda p: shutil.rmtree(p / "model"), ("model",))
    broken("config_garbage", lambda p: (p / "hlsgen_config.yml").write_text("{{{"), ("hlsgen_config.yml",))
    broken("model_truncated", lambda p: _truncate(next((p / "model").glob("*"))), ("model",))
    cases.append(BadCase("not_a_project", ("cosim", str(f)), ("hlsgen project",)))
    cases.append(BadCase("report_not_a_project", ("report", str(f)), ("hlsgen project",)))
    cases.append(BadCase("build_not_a_project", ("build", str(f)), ("hlsgen project",)))
    nb = f / "prj_no_tb"
    if nb.exists():
        shutil.rmtree(nb)
    shutil.copytree(v.project, nb)
    shutil.rmtree(nb / "tb_data")
    cases.append(BadCase("cosim_no_tb_data", ("cosim", str(nb)), ("tb-data",)))
    cases.append(BadCase("cosim_data_nan", ("cosim", prj, "--data", str(f / "nan.npy")), ("sample 1",)))
    cases.append(BadCase("cosim_data_shape", ("cosim", prj, "--data", str(f / "feat.npy")), ("shape",)))
    cases.append(BadCase("cosim_samples_negative", ("cosim", prj, "--samples", "-2"), ("--samples",)))
    cases.append(BadCase("cosim_decode_not_causal", ("cosim", prj, "--decode"), ("causal",)))
    cases.append(BadCase("report_data_nan", ("report", prj, "--data", str(f / "nan.npy"), "-o", str(f / "rep")),
                         ("sample 1",), str(f / "rep")))  # fmt: skip
    cases.append(BadCase("compare_data_inf", ("compare", m, "--data", str(f / "inf.npy")), ("sample 1",)))
    cases.append(BadCase("plan_bad_precision", ("plan", m, "--precision", "ap_fixed<8>"), ("precision",)))
    cases.append(BadCase("convert_existing_output", ("convert", m, "-o", prj), ("exists", "--force")))
    cases.append(
        BadCase("sweep_widths", ("sweep", m, "--data", x, "--labels", x, "--widths", "8,x"), ("--widths",))
    )
    cases.append(BadCase("fuzz_count", ("fuzz", "--count", "0"), ("--count",)))
    cases.append(BadCase("fuzz_replay_garbage", ("fuzz", "--replay", file("spec.json", "[1]")), ("spec",)))
    return cases


def _truncate(p: Path) -> None:
    b = p.read_bytes()
    p.write_bytes(b[: len(b) // 3])


def run_case(case: BadCase) -> tuple[int, str, str]:
    """Run ``hlsgen *case.argv`` in this process: (exit status, stdout, stderr)."""
    from ..cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(case.argv))
        except SystemExit as e:  # argparse
            rc = int(e.code or 0) if not isinstance(e.code, str) else 2
    return rc, out.getvalue(), err.getvalue()


def judge(case: BadCase, rc: int, stdout: str, stderr: str) -> str:
    """What is wrong with how ``case`` failed ("" when it failed well)."""
    problems = []
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if rc == 0:
        problems.append("exit status 0")
    if rc == 3 or "internal error" in stderr:
        problems.append("an internal error")
    if "Traceback" in stderr or "Traceback" in stdout:
        problems.append("a traceback")
    head = [ln for ln in lines if not ln.startswith((" ", "\t"))]  # a list of details is indented
    if len(head) != 1 or not lines[0].startswith("hlsgen"):
        problems.append(f"{len(head)} error lines on stderr, not one")
    text = stderr.lower()
    missing = [w for w in case.expect if w.lower() not in text]
    if missing:
        problems.append(f"the error does not name {missing}")
    if case.output:
        o = Path(case.output)
        leftovers = [p.name for p in o.parent.glob(f".{o.name}*")] if o.parent.is_dir() else []
        if o.exists():
            problems.append(f"{o.name} was written")
        if leftovers:
            problems.append(f"temporary files left: {leftovers}")
    return "; ".join(problems) + (f" (stderr: {stderr.strip()[:400]!r})" if problems else "")
