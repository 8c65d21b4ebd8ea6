"""Imports every table module so ``Base.metadata`` knows the whole schema.

A part that adds tables puts them in its own ``db/<part>.py`` and adds one import here.
"""

from judgebench.db import (
    adaptive,  # noqa: F401
    criteria,  # noqa: F401
    dashboard_summary,  # noqa: F401
    jobs,  # noqa: F401
    leases,  # noqa: F401
    models,  # noqa: F401
    probes,  # noqa: F401
    routing,  # noqa: F401
    synth,  # noqa: F401
)
