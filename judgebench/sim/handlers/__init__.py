"""Handlers for every judgebench prompt the simulated models answer; one module per part.

Add one import line per module.
"""

from judgebench.sim.handlers import (
    judges,  # noqa: F401
    routing,  # noqa: F401
    synth,  # noqa: F401
    taxonomy,  # noqa: F401
)
