"""Batch transcription of many files: planning, atomic outputs, the local process pool
and the Ray runner.

The local pool (``vocalmidi transcribe --jobs N``) is the default and needs nothing but
the core dependencies. The Ray runner (``--ray [ADDRESS]``) needs ``vocalmidi[ray]``;
it keeps one warmed engine per actor and spreads the files over a local Ray instance or
an existing cluster. Both runners share the result cache, so a re-run or a resumed run
does only what is missing.
"""

from vocalmidi.batch.jobs import Job, Outcome, plan_jobs

__all__ = ["Job", "Outcome", "plan_jobs"]
