"""gunicorn's settings for bench/load.py: the project's own (``gunicorn.conf.py``, as
production runs it), except that gunicorn's access log is left to ``--access-logfile``.

The project's settings send gunicorn's access lines nowhere (the portal logs each request
itself, without its query string); the benchmark reads each request's status, server time,
path and query from that file for its figures per page kind.

    gunicorn -c bench/gunicorn_bench.py --access-logfile FILE ...
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

_PROJECT: dict[str, Any] = runpy.run_path(
    str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py")
)
globals().update({k: v for k, v in _PROJECT.items() if not k.startswith("_")})

logconfig_dict = {
    **_PROJECT["logconfig_dict"],
    "loggers": {
        name: settings
        for name, settings in _PROJECT["logconfig_dict"]["loggers"].items()
        if name != "gunicorn.access"
    },
}
