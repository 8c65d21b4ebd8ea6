"""Imports every table module so ``Base.metadata`` knows the whole schema.

A part that adds tables puts them in its own ``db/<part>.py`` and adds one import here.
"""

from judgebench.db import models  # noqa: F401
from judgebench.db import dashboard_summary  # noqa: F401
from judgebench.db import probes  # noqa: F401
from judgebench.db import criteria  # noqa: F401
from judgebench.db import synth  # noqa: F401
from judgebench.db import jobs  # noqa: F401
from judgebench.db import routing  # noqa: F401
