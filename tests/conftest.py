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
    """csim and cosim builds are cached per test session (never in the user's ~/.cache): one folder for
    the whole session, shared by the xdist workers (whose base folders are siblings). Every entry is
    written whole and renamed into place, so the workers can share it; what both use is built once
    when one comes after the other: chiefly Verilator's precompiled header and runtime object, which
    every worker's first cosim build made (~37 s of a small design's 50 s at load 4; 13 s without)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    if not os.environ.get("HLSGEN_CACHE"):
        os.environ["HLSGEN_CACHE"] = str(shared / "hlsgen-cache")
    if not os.environ.get("YOWASP_CACHE_DIR"):
        # Yosys compiles itself (WebAssembly to machine code, ~30 s) into this cache on its first run
        os.environ["YOWASP_CACHE_DIR"] = str(shared / "yowasp-cache")


_YOSYS_READY = False
_COMPILE = """
import fcntl, subprocess, sys
with open(sys.argv[1], "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    subprocess.run(sys.argv[2:], capture_output=True, check=False)
"""


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """In the controller, before the xdist workers start: the session's cache folders in the environment
    they inherit, and Yosys compiling itself into its cache in the background (~30 s of one core, where
    every worker's first Yosys test waited for it) while the workers start on the other tests;
    ``_yosys_compiled_once`` then waits on the same lock only if the compile is still running."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import subprocess
    import sys
    from pathlib import Path

    from hlsgen import tools
    from hlsgen.backends.rtl.yosys import yosys_command, yosys_env

    base = session.config._tmp_path_factory.getbasetemp()  # the workers' "shared" (see _csim_cache)
    os.environ.setdefault("HLSGEN_CACHE", str(base / "hlsgen-cache"))
    os.environ.setdefault("YOWASP_CACHE_DIR", str(base / "yowasp-cache"))
    try:
        cmd = yosys_command()
    except tools.ToolMissing:
        return
    cache = Path(yosys_env()["YOWASP_CACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.Popen([sys.executable, "-c", _COMPILE, str(cache / ".compile.lock"), *cmd, "-V"])


@pytest.fixture(autouse=True)
def _yosys_compiled_once(request: pytest.FixtureRequest) -> None:
    """Before a worker's first Yosys test, run Yosys once under a file lock: the first worker compiles it
    into the shared cache while the other waits, then loads it (yowasp writes its cache file unlocked)."""
    global _YOSYS_READY
    if _YOSYS_READY or request.node.get_closest_marker("yosys") is None:
        return
    _YOSYS_READY = True
    import fcntl
    import subprocess
    from pathlib import Path

    from hlsgen import tools
    from hlsgen.backends.rtl.yosys import yosys_command, yosys_env

    try:
        cmd = yosys_command()
    except tools.ToolMissing:
        return  # the test's own skip says so
    env = yosys_env()
    cache = Path(env["YOWASP_CACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".compile.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([*cmd, "-V"], env=env, capture_output=True, check=False)
