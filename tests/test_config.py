"""The typed config: defaults, YAML round trip, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlsgen.fixed import FixedType
from hlsgen.quant.config import Config, IOType, LayerConfig, SoftmaxVariant, calibrated_type


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<18,8>",
            "reuse_factor": 4,
            "softmax": {"variant": "latency"},
            "layers": {"mha": {"score": "ap_fixed<12,4>", "softmax": {"exp_hi_bits": 5}}},
        }
    )
    p = tmp_path / "cfg.yml"
    p.write_text(cfg.to_yaml())
    back = Config.from_yaml(p)
    assert back == cfg
    assert back.softmax.variant is SoftmaxVariant.LATENCY
    assert back.layers["mha"].softmax.exp_hi_bits == 5
    assert back.io_type is IOType.PARALLEL
    assert isinstance(back.layers["mha"], LayerConfig)


def test_unknown_key_suggests_the_nearest() -> None:
    with pytest.raises(ValueError, match=r"unknown key 'default_precison' \(did you mean 'default_precision'\?\)"):
        Config.from_dict({"default_precison": "ap_fixed<16,6>"})
    with pytest.raises(ValueError, match=r"config.layers.mha: unknown key 'scroe'.*'score'"):
        Config.from_dict({"layers": {"mha": {"scroe": "ap_fixed<8,3>"}}})
    with pytest.raises(ValueError, match=r"config.softmax: unknown key 'exp_bits'"):
        Config.from_dict({"softmax": {"exp_bits": 3}})


def test_malformed_precision_is_named() -> None:
    with pytest.raises(ValueError, match=r"default_precision.*ap_fixed<16"):
        Config.from_dict({"default_precision": "ap_fixed<16"})
    with pytest.raises(ValueError, match=r"layers.d1.weight"):
        Config.from_dict({"layers": {"d1": {"weight": "fixed<8,1>"}}})
    with pytest.raises(ValueError, match="reuse_factor"):
        Config.from_dict({"reuse_factor": 0})


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.yml"
    p.write_text("a: [1, 2\n")
    with pytest.raises(ValueError, match="bad.yml"):
        Config.from_yaml(p)
    with pytest.raises(FileNotFoundError, match="nope.yml"):
        Config.from_yaml(tmp_path / "nope.yml")


def test_calibrated_type_keeps_width_and_covers_range() -> None:
    d = FixedType.parse("ap_fixed<16,6>")
    for m in (0.1, 0.5, 1.0, 1.5, 7.9, 8.0, 100.0):
        t = calibrated_type(m, d)
        assert t.width == 16
        assert t.max >= m and t.max / 2 < m + t.lsb
