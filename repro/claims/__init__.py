"""Claims room (ground floor): statistics, criteria and verdicts, Claim/Result/Record, storage.

No torch, no matplotlib, and no import from any other room of repro/: everything else stands on
this. Paper cards import what they need from here (`from repro.claims import Claim, below`).
"""

from repro.claims.criteria import (
    AllOf,
    Band,
    Criterion,
    Evaluation,
    Verdict,
    above,
    below,
    between,
    within,
)
from repro.claims.model import CLAIM_ID_RE, SCHEMA, Claim, Record, Result
from repro.claims.stats import (
    ArmSummary,
    fmt,
    mean_interval,
    summarize,
    t_quantile,
    wilson_interval,
)
from repro.claims.store import (
    FIGURE_EXTS,
    RESULT_FILE,
    ResultError,
    atomic_write,
    dumps,
    load_all,
    load_record,
    loads,
    save_record,
)

__all__ = [
    "AllOf",
    "ArmSummary",
    "Band",
    "CLAIM_ID_RE",
    "Claim",
    "Criterion",
    "Evaluation",
    "FIGURE_EXTS",
    "RESULT_FILE",
    "Record",
    "Result",
    "ResultError",
    "SCHEMA",
    "Verdict",
    "above",
    "atomic_write",
    "below",
    "between",
    "dumps",
    "fmt",
    "load_all",
    "load_record",
    "loads",
    "mean_interval",
    "save_record",
    "summarize",
    "t_quantile",
    "wilson_interval",
    "within",
]
