"""Reports: the readers of Vitis HLS / Vivado reports (on synthetic samples in tests/data/reports, laid out
like the real ones), measurements labelled with their source, and ``hlsgen report`` (Markdown, HTML, PNG)
for the digits project on the PYNQ-Z2.
"""

from __future__ import annotations

import json
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from hlsgen.report import (
    MEASUREMENTS_FILE,
    Measurement,
    ReportError,
    Source,
    add_measurement,
    load_measurements,
    parse_cosim_report,
    parse_csynth_modules,
    parse_csynth_xml,
    parse_timing_summary,
    parse_utilization,
)
from hlsgen.report.parsers import module_layer
from hlsgen.resources import REPO_ROOT

SAMPLES = Path(__file__).parent / "data" / "reports"
DIGITS = REPO_ROOT / "examples" / "digits"


# -- readers -----------------------------------------------------------------------------------------
def test_csynth_xml() -> None:
    m = parse_csynth_xml(SAMPLES / "csynth.xml")
    assert m.source is Source.VITIS_HLS and m.stage == "csynth" and m.scope == "design"
    assert m.resources == {"bram18": 26, "dsp": 181, "ff": 31544, "lut": 27012, "uram": 0}
    assert m.available == {"bram18": 280, "dsp": 220, "ff": 106400, "lut": 53200, "uram": 0}
    assert (m.latency_cycles, m.interval_cycles, m.clock_ns) == (1101, 1102, 7.256)
    assert "Vitis HLS 2023.1" in m.note and "xc7z020-clg400-1" in m.note


def test_csynth_modules_map_to_layers() -> None:
    layers = ["embed", "mha_query_proj", "mha"]
    assert module_layer("linear_ap_fixed_16_6_5_3_0_ap_fixed_16_6_5_3_0_config_embed_s", layers) == "embed"
    assert module_layer("linear_ap_fixed_16_6_config_mha_query_proj_s", layers) == "mha_query_proj"
    assert module_layer("scores_config_mha_s", layers) == "mha"
    assert module_layer("myproject_axi", layers) is None
    (m,) = parse_csynth_modules(SAMPLES, layers)
    assert (m.scope, m.latency_cycles, m.interval_cycles, m.resources["dsp"]) == ("embed", 67, 64, 16)


def test_cosim_report() -> None:
    m = parse_cosim_report(SAMPLES / "myproject_cosim.rpt")
    assert m.source is Source.VITIS_COSIM
    assert (m.latency_cycles, m.interval_cycles) == (1101, 1102)
    assert "1093/1095/1101" in m.note


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("utilization_zynq7.rpt", {"lut": 29876, "ff": 35102, "dsp": 181, "bram18": 29}),
        ("utilization_zynquplus.rpt", {"lut": 41230, "ff": 52001, "dsp": 804, "bram18": 40, "uram": 2}),
    ],
)
def test_vivado_utilization(name: str, want: dict[str, float]) -> None:
    m = parse_utilization(SAMPLES / name)
    assert m.source is Source.VIVADO and m.resources == want
    assert m.available["bram18"] == (280 if "zynq7" in name else 624)  # 2 x the 36 Kb tiles


def test_timing_summary() -> None:
    assert parse_timing_summary(SAMPLES / "timing_summary.rpt") == 0.412


def test_unreadable_reports_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "csynth.xml"
    bad.write_text("<profile><nothing/></profile>")
    with pytest.raises(ReportError, match=r"csynth.xml: no PerformanceEstimates"):
        parse_csynth_xml(bad)
    bad.write_text("not xml")
    with pytest.raises(ReportError, match=r"not a readable csynth.xml"):
        parse_csynth_xml(bad)
    with pytest.raises(ReportError, match=r"not a Vivado utilisation report"):
        parse_utilization(SAMPLES / "timing_summary.rpt")
    with pytest.raises(ReportError, match=r"no passing Verilog or VHDL row"):
        parse_cosim_report(SAMPLES / "utilization_zynq7.rpt")


# -- measurements ------------------------------------------------------------------------------------
def _bare_project(tmp_path: Path) -> Path:
    d = tmp_path / "prj"
    d.mkdir()
    (d / "hlsgen_config.yml").write_text("project_name: myproject\n")
    return d


def test_add_measurement_replaces_and_validates(tmp_path: Path) -> None:
    d = _bare_project(tmp_path)
    add_measurement(d, "cosim", stage="rtl", latency_cycles=100)
    add_measurement(d, "yosys", stage="synth", resources={"lut": 10, "dsp": 2})
    add_measurement(d, Source.COSIM, stage="rtl", latency_cycles=120, interval_cycles=121)
    ms = load_measurements(d)
    assert [(m.source, m.latency_cycles) for m in ms] == [(Source.YOSYS, None), (Source.COSIM, 120)]
    assert json.loads((d / MEASUREMENTS_FILE).read_text())["measurements"][1]["interval_cycles"] == 121
    with pytest.raises(ValueError, match=r"source 'vivaldi' is unknown; valid: estimate, vitis_hls"):
        add_measurement(d, "vivaldi")
    with pytest.raises(ValueError, match=r"unknown resource 'luts'"):
        add_measurement(d, "yosys", resources={"luts": 1})
    with pytest.raises(FileNotFoundError, match="not an hlsgen project"):
        add_measurement(tmp_path, "yosys")
    assert len(load_measurements(d)) == 2


def test_collect_reports_reads_what_the_tools_left(tmp_path: Path) -> None:
    from hlsgen.build import collect_reports

    d = _bare_project(tmp_path)
    syn = d / "myproject_prj" / "solution1" / "syn" / "report"
    syn.mkdir(parents=True)
    for f in SAMPLES.glob("*csynth.xml"):
        shutil.copy(f, syn / f.name)
    (d / "firmware").mkdir()
    (d / "firmware" / "parameters.h").write_text("struct config_embed {\n};\nstruct config_ffn {\n};\n")
    sim = d / "myproject_prj" / "solution1" / "sim" / "report"
    sim.mkdir(parents=True)
    shutil.copy(SAMPLES / "myproject_cosim.rpt", sim)
    (d / "vivado" / "reports").mkdir(parents=True)
    shutil.copy(SAMPLES / "utilization_zynq7.rpt", d / "vivado" / "reports" / "utilization.rpt")
    shutil.copy(SAMPLES / "timing_summary.rpt", d / "vivado" / "reports" / "timing_summary.rpt")
    found = collect_reports(d)
    keys = [(m.source.value, m.stage, m.scope) for m in found]
    assert keys == [
        ("vitis_hls", "csynth", "design"),
        ("vitis_hls", "csynth", "embed"),
        ("vitis_cosim", "cosim", "design"),
        ("vivado", "bitstream", "design"),
    ]
    assert found[0].file == "myproject_prj/solution1/syn/report/csynth.xml"
    assert found[-1].note == "WNS 0.412 ns"
    assert [m.key for m in load_measurements(d)] == [m.key for m in found]


# -- hlsgen report -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tensorflow")
    from hlsgen.cli import main

    d = tmp_path_factory.mktemp("report") / "digits"
    assert main(["convert", str(DIGITS / "digits_float.keras"), "-o", str(d), "--board", "pynq-z2", "--fit",
                 "--name", "myproject"]) == 0  # fmt: skip
    return d


@pytest.fixture(scope="module")
def digits_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    sys.path.insert(0, str(DIGITS))
    try:
        from data import load_digits_tokens  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(DIGITS))
    _, _, x, y = load_digits_tokens()
    d = tmp_path_factory.mktemp("data")
    np.save(d / "x.npy", x[:120])
    np.save(d / "y.npy", y[:120])
    return d / "x.npy", d / "y.npy"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "img", "br", "link"):
            if tag == "img":
                self.images.append(dict(attrs)["src"] or "")
            return
        self.tables += tag == "table"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        )
        self.stack.pop()


def test_report_of_a_board_project(digits_project: Path, digits_data: tuple[Path, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from hlsgen.cli import main

    d = digits_project
    add_measurement(d, "vitis_hls", stage="csynth", resources={"lut": 27012, "ff": 31544, "dsp": 181, "bram18": 26},
                    latency_cycles=1101, interval_cycles=1102, clock_ns=7.256, note="synthetic figures")  # fmt: skip
    add_measurement(d, "vitis_hls", stage="csynth", scope="embed", resources={"dsp": 16, "lut": 1431},
                    latency_cycles=67, note="synthetic figures")  # fmt: skip
    add_measurement(d, "cosim", stage="rtl", latency_cycles=1099, note="synthetic figures")
    x, y = digits_data
    assert main(["report", str(d), "--data", str(x), "--labels", str(y)]) == 0
    assert "report.md" in capsys.readouterr().out
    out = d / "report"
    assert sorted(p.name for p in out.iterdir()) == [
        "latency.png",
        "report.html",
        "report.md",
        "resources.png",
    ]
    for png in ("latency.png", "resources.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert md.startswith("<!-- Generated by hlsgen")
    assert "Board **pynq-z2**" in md
    # every figure beside its source; the board's totals; the layers with their types
    assert "| estimate | hlsgen.plan | " in md and "| vitis_hls | csynth | 27012 (50.8%)" in md
    assert "| cosim | rtl |" in md and "| pynq-z2 has | | 53200 | 106400 | 220 | 280 |" in md
    assert "| embed | linear | embed | `ap_fixed<16,6>` |" in md
    assert "| mha_scores | scores | mha |" in md and "zynq shell" in md
    embed_row = next(line for line in md.splitlines() if line.startswith("| embed |"))
    assert embed_row.rstrip().endswith("| 67 | 16 | 1431 |")  # vitis_hls per-module figures
    # accuracy: float (IR in float64) against fixed (the reference) on the labelled data
    assert "top-1 accuracy, float" in md and "top-1 accuracy, fixed" in md
    acc = [float(line.split("|")[2]) for line in md.splitlines() if line.startswith("| top-1 accuracy")]
    assert all(0.8 < a <= 1.0 for a in acc)
    html = (out / "report.html").read_text()
    p = _Html()
    p.feed(html)
    assert p.stack == [] and p.tables >= 3
    assert p.images == ["resources.png", "latency.png"]
    assert "vitis_hls" in html and "estimate" in html


def test_report_without_data_or_measurements(digits_project: Path, tmp_path: Path) -> None:
    from hlsgen.report.render import write_report

    d = tmp_path / "prj"
    shutil.copytree(digits_project, d, ignore=shutil.ignore_patterns("reports", "report"))
    out = write_report(d, tmp_path / "rep")
    md = (out / "report.md").read_text()
    assert "Float against fixed point" not in md and "vitis_hls" not in md.split("## Layers")[1]
    assert "| estimate | hlsgen.plan |" in md
    assert not (d / "report").exists()


def test_measurement_round_trip() -> None:
    m = Measurement(Source.VIVADO, "bitstream", resources={"lut": 1.0}, note="n")
    assert Measurement.from_dict(json.loads(json.dumps(m.to_dict()))) == m
