"""judgebench: evaluate and judge LLMs, with feedback across a taxonomy of tasks.

The public facade is small; the parts live in subpackages::

    from judgebench.llm import complete            # the LLM gateway
    from judgebench.judges import PairwiseJudge     # judges as a library
    from judgebench.db import Store                 # the SQL store
"""

__version__ = "0.1.0"
