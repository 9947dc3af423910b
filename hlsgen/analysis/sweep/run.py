"""Running sweep points: one point (emulation, errors, resource estimate) and many, on local worker
processes or a Dask cluster."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...backends.hls.ops import hls_call
from ...config import Config
from ...ir.graph import Graph
from ..compare import (
    is_mask,
    output_errors,
    overflow_mask,
    param_values,
)
from .points import DEFAULT_CONNECT_TIMEOUT, METRICS, RESOURCES, SweepError, SweepPoint


# ---------------------------------------------------------------------------------------------------
# one point
# ---------------------------------------------------------------------------------------------------
@dataclass
class Payload:
    """What every point reads: the float graph, the data, the float reference; shipped once per worker."""

    graph: Graph
    inputs: list[np.ndarray]
    labels: np.ndarray | None
    float_output: np.ndarray  #: the Keras model's first output
    float_env: dict[str, np.ndarray]  #: every tensor of the IR's float pass on the data
    ranges: dict[str, float]  #: calibration ranges


def _plan_estimate() -> Any:
    try:
        from ...plan import estimate
    except ImportError:  # hlsgen.plan not there: sums of op.cost()
        return None
    return estimate


def resources_source() -> str:
    """Where the resource figures of :func:`estimate_resources` come from."""
    if _plan_estimate() is not None:
        return "estimate: hlsgen.plan.estimate (no board), not synthesis"
    return "estimate: sums of op.cost() (hlsgen.ir.ops), not synthesis"


def estimate_resources(graph: Graph) -> dict[str, int | None]:
    """The analytical resource estimate of a typed graph (:func:`hlsgen.plan.estimate`, or sums of the
    ops' ``cost()`` without it: then no DSP and FF figures), and the bits of every constant."""
    estimate = _plan_estimate()
    tot: dict[str, int | None] = dict.fromkeys(RESOURCES, 0)
    if estimate is not None:
        plan = estimate(graph)
        t = plan.totals
        tot.update(
            multipliers=sum(x.multipliers for x in plan.layers),
            dsp=t["dsp"],
            bram18=t["bram18"],
            lut=t["lut"],
            ff=t["ff"],
            latency_cycles=plan.latency_cycles,
        )
    else:
        costs = [op.cost(graph) for op in graph.ops]
        tot.update(
            multipliers=sum(int(c.multipliers) for c in costs),
            dsp=None,
            bram18=sum(int(c.bram18) for c in costs),
            lut=sum(int(c.lut) for c in costs),
            ff=None,
            latency_cycles=sum(int(c.latency_cycles) for c in costs),
        )
    bits = 0
    for op in graph.ops:
        try:
            params = hls_call(op, graph).params
        except NotImplementedError:
            params = []
        bits += sum(int(np.size(p.raw)) * p.type.width for p in params)
    tot["param_bits"] = bits
    return tot


def run_point(point: SweepPoint, payload: Payload) -> dict[str, Any]:
    """The figures of one point (a pure function of its arguments)."""
    from ...fixed import from_raw
    from ...quant.passes import quantize_graph

    row: dict[str, Any] = {"index": point.index, "label": point.label, "settings": dict(point.settings)}
    row.update(dict.fromkeys(METRICS + RESOURCES))
    row["error"] = ""
    try:
        cfg = Config.from_dict(point.config)
        typed = quantize_graph(payload.graph, cfg, ranges=payload.ranges if point.calibrate else {})
        raw = typed.run_raw(payload.inputs)
    except ValueError as e:
        row["error"] = str(e)
        return row
    k = typed.outputs[0]
    y = from_raw(raw[k], typed.tensors[k].type).reshape(payload.float_output.shape)
    am = np.argmax(y, axis=-1)
    if payload.labels is not None:
        row["accuracy"] = float(np.mean(am == payload.labels))
    row["agreement"] = float(np.mean(am == np.argmax(payload.float_output, axis=-1)))
    e = output_errors(k, y, payload.float_output)
    row.update(max_abs_error=e.max_abs_error, mean_abs_error=e.mean_abs_error, rel_error=e.rel_error)
    over = 0
    for name, t in typed.tensors.items():
        if t.type is not None and not is_mask(t.type) and name in payload.float_env:
            over += int(overflow_mask(payload.float_env[name], t.type).sum())
    for op in typed.ops:
        over += sum(int(overflow_mask(v, t).sum()) for _, v, t in param_values(op))
    row["overflows"] = over
    row.update(estimate_resources(typed))
    return row


_WORKER_PAYLOAD: Payload | None = None


def _init_worker(blob: bytes) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = pickle.loads(blob)


def _run_in_worker(point: SweepPoint) -> dict[str, Any]:
    assert _WORKER_PAYLOAD is not None
    return run_point(point, _WORKER_PAYLOAD)


# ---------------------------------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------------------------------
def connect(scheduler: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``scheduler``.

    Raises:
        SweepError: the scheduler did not answer within ``timeout`` seconds, or dask is not installed.
    """
    try:
        from dask.distributed import Client
    except ImportError as e:
        raise SweepError(
            f"--scheduler needs dask.distributed: pip install 'dask[distributed]' ({e})"
        ) from None
    try:
        return Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise SweepError(
            f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s: {e}"
        ) from None


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="point", disable=not enabled)


def run_points(
    points: list[SweepPoint],
    payload: Payload,
    workers: int | None = None,
    client: Any = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Rows of every point, sorted by point: on the Dask ``client`` when given, else on ``workers``
    local processes (``workers <= 1``: in this process)."""
    rows: list[dict[str, Any]] = []
    with _progress(len(points), progress) as bar:
        if client is not None:
            from dask.distributed import as_completed

            shared = client.scatter(payload, broadcast=True, hash=False)
            futures = client.map(run_point, points, payload=shared, pure=False)
            for f in as_completed(futures, loop=client.loop):
                rows.append(f.result())
                bar.update(1)
        else:
            n = min(workers if workers is not None else (os.cpu_count() or 1), len(points))
            if n <= 1:
                for p in points:
                    rows.append(run_point(p, payload))
                    bar.update(1)
            else:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor, as_completed

                blob = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker, initargs=(blob,)) as ex:
                    for f in as_completed([ex.submit(_run_in_worker, p) for p in points]):
                        rows.append(f.result())
                        bar.update(1)
    return sorted(rows, key=lambda r: r["index"])
