"""Evaluation jobs: one YAML runs taxonomy → queries → responses → judgments → summary,
resumably, locally or on Ray, once or on a schedule. See docs/jobs.md.

```python
from judgebench.jobs import JobRunner, load_job
result = JobRunner(load_job("job.yaml")).run()
print(result.status, result.summary["models"])
```
"""

from judgebench.jobs.config import JobConfig, load_job, parse_job
from judgebench.jobs.runner import JobResult, JobRunner, run_id_for

__all__ = ["JobConfig", "JobResult", "JobRunner", "load_job", "parse_job", "run_id_for"]
