"""The machine line every benchmark prints beside its figures."""
from __future__ import annotations

import contextlib
import os
import platform
from datetime import datetime, timezone
from pathlib import Path


def machine(with_time: bool = False) -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    text = (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}")
    return text + (f"; {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC" if with_time else "")
