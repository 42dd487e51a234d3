"""Machine and version description for result files."""

from __future__ import annotations

import os
import platform
import sys


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("jax", "jaxlib", "numpy", "torch", "torchmetrics", "sklearn", "keras", "tensorflow", "optax", "maskjax"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception:
            out[mod] = "not installed"
    return out


def machine_info(markdown: bool = False) -> str:
    v = versions()
    mall = {k: os.environ[k] for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "XLA_FLAGS") if k in os.environ}
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            thp = f.read().strip()
    except OSError:
        thp = "?"
    rows = [("CPU", cpu_model()), ("cores (os.cpu_count)", str(os.cpu_count())),
            ("load average", " ".join(f"{x:.2f}" for x in os.getloadavg())),
            ("transparent hugepages", thp), ("malloc/XLA env", str(mall) if mall else "default"),
            ("versions", ", ".join(f"{k} {val}" for k, val in v.items())),
            ("command", " ".join([os.path.basename(sys.executable)] + sys.argv))]
    if markdown:
        return "\n".join(f"- **{k}**: {val}" for k, val in rows)
    return "\n".join(f"{k}: {val}" for k, val in rows)
