"""Hardware cost of every NB201 cell (HW-NAS-Bench) and the cost metrics a search can be constrained on.

HW-NAS-Bench (Li et al., "HW-NAS-Bench: Hardware-Aware Neural Architecture Search Benchmark", ICLR 2021,
§3, Table 2) measured (edge GPU, Raspberry Pi 4, Edge TPU, Pixel 3) or simulated (Eyeriss, FPGA) every
NB201 network, batch size 1, for the CIFAR-10, CIFAR-100 and ImageNet16-120 networks (10 / 100 / 120
classes; 32x32, 32x32, 16x16 inputs). The embedded table stores them as ``{dataset}/{metric}`` columns,
``dataset`` in :data:`HW_DATASETS` and ``metric`` in :data:`HW_METRICS`, e.g. ``cifar10/edgegpu_latency``.

Units (:data:`UNITS`): latency in milliseconds (ms), energy in millijoules (mJ), Eyeriss arithmetic
intensity in operations per byte of off-chip memory access (op/byte, as HW-NAS-Bench's simulator reports
it). ``edgetpu_latency`` was not measured for 4,699 cells (the source writes -1.0): nwot stores and
returns that as missing (``None`` / NaN), never as a (fast) number.

The cost metrics a constraint may name (:data:`COST_METRICS`) are these hardware metrics plus the
network's ``params`` (MB = 1e6 parameters) and ``flops`` (MFLOPs), each of the search dataset's network.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

from nwot.errors import check_choice

#: Datasets HW-NAS-Bench measured (the networks of these datasets' NB201 runs).
HW_DATASETS: Tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
#: Devices, in HW-NAS-Bench order.
DEVICES: Tuple[str, ...] = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
#: Hardware metrics (HW-NAS-Bench's names), in the source file's column order.
HW_METRICS: Tuple[str, ...] = (
    "edgegpu_latency", "edgegpu_energy", "raspi4_latency", "edgetpu_latency", "pixel3_latency",
    "eyeriss_latency", "eyeriss_energy", "eyeriss_arithmetic_intensity", "fpga_latency", "fpga_energy",
)
#: Metrics the source leaves unmeasured for some cells (written -1.0 there, missing here).
MAY_BE_MISSING: Tuple[str, ...] = ("edgetpu_latency",)
#: Model-size metrics of every cell (computed by nwot's builder where no benchmark value exists).
SIZE_METRICS: Tuple[str, ...] = ("params", "flops")
#: Every metric a constraint or a Pareto objective can name.
COST_METRICS: Tuple[str, ...] = SIZE_METRICS + HW_METRICS

#: Unit of each cost metric.
UNITS: Dict[str, str] = {
    "params": "MB", "flops": "MFLOPs",
    **{m: "ms" for m in HW_METRICS if m.endswith("_latency")},
    **{m: "mJ" for m in HW_METRICS if m.endswith("_energy")},
    "eyeriss_arithmetic_intensity": "op/byte",
}
#: Which devices were measured on real hardware and which were simulated (HW-NAS-Bench §3.2).
DEVICE_KIND: Dict[str, str] = {"edgegpu": "measured (NVIDIA Jetson TX2)", "raspi4": "measured (Raspberry Pi 4)",
                               "edgetpu": "measured (Google Edge TPU dev board)", "pixel3": "measured (Google Pixel 3)",
                               "eyeriss": "simulated (Eyeriss ASIC)", "fpga": "simulated (Xilinx ZC706 FPGA)"}


def hw_dataset(dataset: str) -> str:
    """The HW-NAS-Bench dataset whose network ``dataset`` trains: ``cifar10-valid`` -> ``cifar10`` (same net)."""
    return "cifar10" if dataset == "cifar10-valid" else dataset


def hw_column(dataset: str, metric: str) -> str:
    """The embedded table's column of ``metric`` for ``dataset``'s network, e.g. ``cifar10/edgegpu_latency``."""
    check_choice("hardware metric", metric, HW_METRICS)
    ds = hw_dataset(dataset)
    check_choice("hardware dataset (HW-NAS-Bench)", ds, HW_DATASETS)
    return f"{ds}/{metric}"


def device_of(metric: str) -> str:
    """``edgegpu_latency`` -> ``edgegpu``."""
    check_choice("hardware metric", metric, HW_METRICS)
    return next(d for d in DEVICES if metric.startswith(d + "_"))


@dataclass(frozen=True)
class Measure:
    """One cost number with its unit, e.g. ``Measure(5.807, "ms")``."""

    value: float
    unit: str

    def __str__(self) -> str:
        return f"{self.value:.6g} {self.unit}"


@dataclass(frozen=True)
class HardwareCost:
    """HW-NAS-Bench numbers of one network on one device (batch 1); ``None`` = not measured / not modelled."""

    device: str  # one of DEVICES
    latency_ms: Optional[float]  # milliseconds per image
    energy_mj: Optional[float] = None  # millijoules per image (edgegpu, eyeriss, fpga only)
    arithmetic_intensity: Optional[float] = None  # op/byte (eyeriss only)


def hardware_costs(values: Mapping[str, Optional[float]]) -> Dict[str, HardwareCost]:
    """``{metric: value or None}`` (keys of :data:`HW_METRICS`) -> ``{device: HardwareCost}``."""
    out = {}
    for d in DEVICES:
        out[d] = HardwareCost(d, values.get(f"{d}_latency"), values.get(f"{d}_energy"),
                              values.get(f"{d}_arithmetic_intensity"))
    return out


def metric_of(costs: Mapping[str, HardwareCost], metric: str) -> Optional[float]:
    """The value of hardware ``metric`` (e.g. ``"edgegpu_latency"``) in ``{device: HardwareCost}``."""
    hc = costs.get(device_of(metric))
    if hc is None:
        return None
    quantity = metric[len(hc.device) + 1:]
    return {"latency": hc.latency_ms, "energy": hc.energy_mj, "arithmetic_intensity": hc.arithmetic_intensity}[quantity]
