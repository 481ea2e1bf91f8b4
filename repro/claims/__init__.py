"""Claims room (ground floor): statistics, criteria and verdicts, Claim/Result/Record, storage.

No torch, no matplotlib, and no import from any other room of repro/: everything else stands on
this. Paper cards import what they need from here (`from repro.claims import Claim, below`).
"""

from repro.claims.bands import above, below, between, within
from repro.claims.criteria import AllOf, Band, Criterion
from repro.claims.model import CLAIM_ID_RE, KINDS, SCHEMA, Claim, Record, Result
from repro.claims.registration import Registration, audit_seeds, revisions, stamp
from repro.claims.stats import (
    DOMAINS,
    ArmSummary,
    bootstrap_interval,
    fmt,
    interval,
    mean_interval,
    summarize,
    t_quantile,
    wilson_interval,
)
from repro.claims.store import (
    AUDIT_FILE,
    FIGURE_EXTS,
    RESULT_FILE,
    ResultError,
    atomic_write,
    dumps,
    load_all,
    load_audit,
    load_record,
    loads,
    save_audit,
    save_record,
)
from repro.claims.verdicts import Evaluation, Verdict

__all__ = [
    "AUDIT_FILE",
    "DOMAINS",
    "KINDS",
    "Registration",
    "audit_seeds",
    "bootstrap_interval",
    "interval",
    "revisions",
    "save_audit",
    "stamp",
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
    "load_audit",
    "load_record",
    "loads",
    "mean_interval",
    "save_record",
    "summarize",
    "t_quantile",
    "wilson_interval",
    "within",
]
