"""Shared fixtures. A test that needs a tool skips only where the tool is truly absent."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _have_gxx() -> bool:
    from hlsgen import tools

    try:
        tools.ap_types_include()
        tools.cxx()
    except tools.ToolMissing:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gxx = _have_gxx()
    for item in items:
        if "gxx" in item.keywords and not gxx:
            item.add_marker(
                pytest.mark.skip(reason="g++ or the ap_types headers of hls4ml are not installed")
            )


@pytest.fixture(autouse=True, scope="session")
def _csim_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """csim builds are cached per test session (never in the user's ~/.cache)."""
    if not os.environ.get("HLSGEN_CACHE"):
        os.environ["HLSGEN_CACHE"] = str(tmp_path_factory.getbasetemp() / "hlsgen-cache")
