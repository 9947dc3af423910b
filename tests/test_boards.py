"""The board registry: every shipped board file, user files, schema errors, and ``hlsgen boards``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hlsgen import resources
from hlsgen.boards import (
    Board,
    BoardError,
    Family,
    Memory,
    ProcessingSystem,
    Resources,
    Shell,
    UnknownBoard,
    YosysFamily,
    board_names,
    format_table,
    list_boards,
    load_board,
)
from hlsgen.cli import main

#: The registry and the Vivado part of each board.
EXPECTED_PARTS = {
    "pynq-z2": "xc7z020clg400-1",
    "zcu102": "xczu9eg-ffvb1156-2-e",
    "zcu104": "xczu7ev-ffvc1156-2-e",
    "ultra96v2": "xczu3eg-sbva484-1-e",
    "kv260": "xck26-sfvc784-2LV-c",
    "alveo-u50": "xcu50-fsvh2104-2-e",
    "alveo-u55c": "xcu55c-fsvh2892-2L-e",
    "alveo-u250": "xcu250-figd2104-2L-e",
    "alveo-u280": "xcu280-fsvh2892-2L-e",
    "xcvu13p": "xcvu13p-flga2577-2-e",
}


def _user_board() -> dict[str, Any]:
    """A valid board file's contents."""
    return {
        "name": "my-board",
        "description": "a user's own board",
        "part": "xczu7ev-ffvc1156-2-e",
        "family": "zynquplus",
        "yosys_family": "xcup",
        "clock_period_ns": 4.0,
        "resources": {"lut": 230400, "ff": 460800, "dsp": 1728, "bram18": 624, "uram": 96},
        "shell": "zynq",
        "ps": "zynq_ultra_ps_e",
        "pynq": False,
    }


def _write(tmp_path: Path, content: dict[str, Any] | str, name: str = "my-board.yaml") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    return path


# -- the shipped registry ----------------------------------------------------------------------------------
def test_registry_lists_exactly_the_ten_boards() -> None:
    assert board_names() == sorted(EXPECTED_PARTS)
    assert [b.name for b in list_boards()] == sorted(EXPECTED_PARTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PARTS))
def test_board_file_loads_and_validates(name: str) -> None:
    board = load_board(name)
    assert board.name == name
    assert board.part == EXPECTED_PARTS[name]
    assert board.source is not None and board.source.name == f"{name}.yaml"
    assert board.source.parent == resources.resource_dir("boards")
    assert load_board(name.upper()) == board
    assert load_board(board.source) == board  # the same file by path
    assert board.description.strip()


@pytest.mark.parametrize("name", sorted(EXPECTED_PARTS))
def test_board_figures_are_sane(name: str) -> None:
    board = load_board(name)
    r = board.resources
    assert r.lut > 0 and r.ff > 0 and r.dsp > 0 and r.bram18 > 0 and r.uram >= 0
    assert r.ff == 2 * r.lut  # 7 series and UltraScale+ CLBs: 8 LUTs and 16 flip-flops
    assert r.dsp < r.bram18 * 10 < r.lut
    assert r.bram18 % 2 == 0  # the data sheets count 36 Kb blocks
    assert 50 <= board.clock_mhz <= 500
    assert board.clock_period_ns * board.clock_mhz == pytest.approx(1000.0)
    assert board.yosys_family is board.family.yosys_family
    if board.family is Family.ZYNQ7000:
        assert board.yosys_family is YosysFamily.XC7 and r.uram == 0
    else:
        assert board.yosys_family is YosysFamily.XCUP
    if board.shell is Shell.ZYNQ:
        assert board.ps is board.family.processing_system is not None
    elif board.shell is Shell.ALVEO:
        assert board.platform and board.platform.startswith(f"xilinx_{name.removeprefix('alveo-')}_")
        assert board.memory in (Memory.HBM, Memory.DDR)
        assert "whole-device" in board.description
    else:
        assert board.ps is None and board.platform is None and board.memory is None


def test_shells_and_memories() -> None:
    boards = {b.name: b for b in list_boards()}
    assert boards["pynq-z2"].ps is ProcessingSystem.ZYNQ7 and boards["pynq-z2"].pynq
    assert boards["pynq-z2"].ps.vivado_ip == "processing_system7"
    assert boards["zcu102"].ps is ProcessingSystem.ZYNQ_ULTRA_PS_E
    assert boards["alveo-u250"].memory is Memory.DDR
    assert {boards[n].memory for n in ("alveo-u50", "alveo-u55c", "alveo-u280")} == {Memory.HBM}
    assert boards["xcvu13p"].shell is Shell.BARE


@pytest.mark.parametrize("name", sorted(EXPECTED_PARTS))
def test_to_dict_round_trips(name: str, tmp_path: Path) -> None:
    board = load_board(name)
    d = board.to_dict()
    json.dumps(d)  # plain values only
    assert Board.from_dict(d) == board
    assert load_board(_write(tmp_path, d, f"{name}-copy.yaml")) == board


# -- user files --------------------------------------------------------------------------------------------
def test_user_board_by_path(tmp_path: Path) -> None:
    path = _write(tmp_path, _user_board())
    board = load_board(str(path))
    assert board == load_board(path)
    assert board.name == "my-board" and board.source == path
    assert board.resources == Resources(lut=230400, ff=460800, dsp=1728, bram18=624, uram=96)
    assert board.clock_mhz == 250.0


def test_user_board_with_clock_in_mhz(tmp_path: Path) -> None:
    data = _user_board()
    del data["clock_period_ns"]
    data["clock_mhz"] = 250
    assert load_board(_write(tmp_path, data)).clock_period_ns == 4.0


def test_board_built_in_code_is_validated() -> None:
    with pytest.raises(BoardError, match=r"resources\.dsp: must not be negative"):
        Resources(lut=1, ff=2, dsp=-1, bram18=0, uram=0)
    data = _user_board()
    del data["clock_period_ns"]
    with pytest.raises(BoardError, match="yosys_family: 'xc7' does not match family 'zynquplus'"):
        Board(**{**data, "yosys_family": "xc7"}, clock_period_ns=4.0)


# -- bad files: each error names the file and the field ----------------------------------------------------
def _without(key: str) -> dict[str, Any]:
    data = _user_board()
    del data[key]
    return data


def _with(**changes: Any) -> dict[str, Any]:
    return {**_user_board(), **changes}


def _with_resources(**changes: Any) -> dict[str, Any]:
    data = _user_board()
    return {**data, "resources": {**data["resources"], **changes}}


BAD_FILES = {
    "missing field": (_without("part"), "part", "missing"),
    "missing clock": (_without("clock_period_ns"), "clock_period_ns", "missing"),
    "missing resource": (
        {**_user_board(), "resources": {"lut": 1, "ff": 2, "dsp": 0, "bram18": 0}},
        "resources.uram",
        "missing",
    ),
    "unknown key": ({**_user_board(), "resource": {}}, "resource", "did you mean 'resources'?"),
    "unknown resource key": (_with_resources(bram=4), "resources.bram", "did you mean 'bram18'?"),
    "negative resource": (_with_resources(dsp=-5), "resources.dsp", "must not be negative"),
    "fractional resource": (_with_resources(lut=1.5), "resources.lut", "whole number"),
    "resource not a number": (_with_resources(ff="many"), "resources.ff", "whole number"),
    "wrong shell": (_with(shell="zynqq"), "shell", "did you mean 'zynq'?"),
    "wrong family": (_with(family="zynq_ultrascale"), "family", "valid: artix7"),
    "wrong type": (_with(description=42), "description", "non-empty string"),
    "negative clock": (_with(clock_period_ns=-5), "clock_period_ns", "positive"),
    "bad part": (_with(part="zcu104"), "part", "not a Xilinx part number"),
    "flag not a bool": (_with(pynq="maybe"), "pynq", "true or false"),
    "field of another shell": (
        _with(platform="xilinx_u50_gen3x16_xdma_5_202210_1"),
        "platform",
        "only to shell",
    ),
    "missing shell field": (_without("ps"), "ps", "required for shell 'zynq'"),
    "alveo without platform": (
        {**_without("ps"), "pynq": None, "shell": "alveo", "memory": "ddr"},
        "platform",
        "required for shell 'alveo'",
    ),
    "yosys family disagrees": (_with(yosys_family="xc7"), "yosys_family", "expected 'xcup'"),
    "ps disagrees": (_with(ps="zynq7"), "ps", "does not match family"),
    "clocks disagree": (_with(clock_mhz=100), "clock_mhz", "does not match"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_names_file_and_field(case: str, tmp_path: Path) -> None:
    data, field, words = BAD_FILES[case]
    data = {k: v for k, v in data.items() if v is not None}
    path = _write(tmp_path, data)
    with pytest.raises(BoardError) as info:
        load_board(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{field}: " in message
    assert words in message
    assert field in info.value.fields
    assert info.value.path == path


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = _with_resources(dsp=-1, uram="x")
    data["shel"] = data.pop("shell")
    path = _write(tmp_path, data)
    with pytest.raises(BoardError) as info:
        load_board(path)
    assert {"resources.dsp", "resources.uram", "shel", "shell"} <= set(info.value.fields)
    assert "did you mean 'shell'?" in str(info.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("name: a\nname: b\n", "duplicate key 'name'"),
        ("", "found an empty file"),
        ("- zcu102\n- kv260\n", "found a list"),
    ],
)
def test_file_that_is_not_a_board_mapping(text: str, words: str, tmp_path: Path) -> None:
    path = _write(tmp_path, text, "broken.yaml")
    with pytest.raises(BoardError) as info:
        load_board(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(BoardError, match="not a UTF-8 text file") as info:
        load_board(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "board.yaml"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        load_board(str(path))
    assert str(path) in str(info.value)


def test_unknown_board_lists_the_known_ones() -> None:
    with pytest.raises(UnknownBoard) as info:
        load_board("zcu10")
    message = str(info.value)
    assert "unknown board 'zcu10'" in message and "did you mean 'zcu10" in message
    for name in EXPECTED_PARTS:
        assert name in message
    assert info.value.known == sorted(EXPECTED_PARTS)
    assert isinstance(info.value, ValueError)


# -- where the files are found -----------------------------------------------------------------------------
def test_resource_dir_prefers_packaged_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resources.resource_dir("boards") == resources.REPO_ROOT / "boards"
    package = tmp_path / "hlsgen"
    (package / "_data" / "boards").mkdir(parents=True)
    monkeypatch.setattr(resources, "PACKAGE_DIR", package)
    assert resources.resource_dir("boards") == package / "_data" / "boards"
    monkeypatch.setattr(resources, "REPO_ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match="sim/ folder is missing"):
        resources.resource_dir("sim")
    with pytest.raises(ValueError, match="single folder name"):
        resources.resource_dir("../boards")


# -- hlsgen boards -----------------------------------------------------------------------------------------
def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boards"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "PART",
        "FAMILY",
        "SHELL",
        "CLOCK",
        "LUT",
        "FF",
        "DSP",
        "BRAM18",
        "URAM",
    ]
    assert [line.split()[0] for line in lines[1:]] == sorted(EXPECTED_PARTS)
    zcu102 = next(line for line in lines if line.startswith("zcu102 ")).split()
    assert zcu102 == ["zcu102", "xczu9eg-ffvb1156-2-e", "zynquplus", "zynq", "200", "MHz"] + [
        "274080",
        "548160",
        "2520",
        "1824",
        "0",
    ]
    assert "\n".join(lines) == format_table(list_boards())


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boards", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == sorted(EXPECTED_PARTS)
    assert {d["name"]: d["part"] for d in data} == EXPECTED_PARTS
    u50 = next(d for d in data if d["name"] == "alveo-u50")
    assert u50["shell"] == "alveo" and u50["memory"] == "hbm" and u50["clock_mhz"] == 300.0
    assert u50["platform"] == "xilinx_u50_gen3x16_xdma_5_202210_1"


def test_cli_validates_a_user_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, _user_board())
    assert main(["boards", "--json", str(path), "kv260"]) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["my-board", "kv260"]

    bad = _write(tmp_path, _with_resources(dsp=-1), "bad.yaml")
    assert main(["boards", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "resources.dsp" in err

    assert main(["boards", "nosuchboard"]) == 2
    assert "known boards: alveo-u250" in capsys.readouterr().err
