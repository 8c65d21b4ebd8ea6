"""Simulated models (``sim/<profile>``): a deterministic, offline test double for real LLMs.

Results from these models are labelled "simulated" wherever they appear. See docs/simulator.md.
"""

from judgebench.sim.backend import SimBackend
from judgebench.sim.profiles import Profile, list_profiles, load_profile
from judgebench.sim.tasks import SimReply, TaskContext, find_task, sim_task

__all__ = [
    "Profile",
    "SimBackend",
    "SimReply",
    "TaskContext",
    "find_task",
    "list_profiles",
    "load_profile",
    "sim_task",
]
