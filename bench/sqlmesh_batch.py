"""One SQLMesh batch as a whole process (run with the peers' venv, not modelc's):
`python sqlmesh_batch.py PROJECT_DIR EXECUTION_TIME [plan]`.

Batch 0 applies the plan (creating the SCD_TYPE_2_BY_TIME model); later batches `run` it with an
execution time one day later, so exactly one new daily interval is due and the model reads the
Parquet file the harness has put at PROJECT_DIR/current.parquet.
"""

import sys

from sqlmesh import Context

project, when = sys.argv[1], sys.argv[2]
ctx = Context(paths=project)
if len(sys.argv) > 3 and sys.argv[3] == "plan":
    ctx.plan(auto_apply=True, no_prompts=True, execution_time=when)
else:
    ctx.run(execution_time=when, ignore_cron=True)
