"""Claims room, the claim model: what a paper says (`Claim`), what a run measured (`Result`),
and everything one run of a paper module produced (`Record`).

- `Claim`: one sentence a paper states, the paper's own value and where it is, the metric, and the
  pass `Criterion`, written in code before anything runs (never tuned after a failing run).
- `Result`: per-seed values per arm, their summaries, the verdict and why, notes, figures.
- `Record`: one `Result` per claim, the provenance, the hashes; saved by `repro.claims.store`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.claims.criteria import Criterion
from repro.claims.stats import DOMAINS, ArmSummary, summarize
from repro.claims.verdicts import Evaluation, Verdict

SCHEMA = 1
KINDS = ("reproduction", "check")
CLAIM_ID_RE = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z0-9][a-z0-9-]*)$")


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, fixed before any run.

    id: "<bibtex key>.<slug>", e.g. "bai2018tcn.copy-memory".
    statement: the claim in one sentence, in our words.
    paper_value: the paper's number(s) as text, e.g. "LSTM 0.0204 vs TCN 3.5e-5".
    where: where the paper states it ("Table 1", "Figure 3", "Section 4.1").
    metric: what each arm's value measures.
    criterion: the pass criterion; None while the claim is not yet specified (shown as such).
    kind: "reproduction" (an experimental outcome that could come out either way: reproduced,
        not reproduced, inconclusive, failed) or "check" (exact or deterministic: an identity, a
        bound, an IEEE limit: holds or fails). Counted apart everywhere.
    proportion: each per-seed value is a 0/1 outcome; arms are summarized as k/n (Wilson).
    domain: what the metric's values can be: "real", "nonnegative" or "probability"; the
        interval shown and judged never leaves it. `domains` overrides it per arm.
    setup: how our setup differs from the paper's, in one line ("T = 1000 | T = 100").
    paper_arms: the paper's number for an arm, in our metric, where one is comparable (shown
        beside ours in the claim block and marked on its figure); arms without one are absent.
    paper_arms_from: how those numbers were read or converted, in one line (table, division).
    title: what the paper claims, in a few words a reader understands ("Shortcuts undo the
        degradation of deep plain nets"); the claim block's heading. Default: from the slug.
    """

    id: str
    statement: str
    paper_value: str
    where: str
    metric: str
    criterion: Criterion | None
    kind: str = "reproduction"
    proportion: bool = False
    domain: str = "real"
    domains: Mapping[str, str] = field(default_factory=dict)
    setup: str = ""
    paper_arms: Mapping[str, float] = field(default_factory=dict)
    paper_arms_from: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        if not CLAIM_ID_RE.match(self.id):
            raise ValueError(
                f"claim id '{self.id}' must look like '<key>.<slug>' "
                "(lowercase key, then letters, digits and dashes)"
            )
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {KINDS}, not '{self.kind}'")
        if self.paper_arms and not self.paper_arms_from:
            raise ValueError(f"claim {self.id}: paper_arms needs paper_arms_from (where from)")
        for d in (self.domain, *self.domains.values()):
            if d not in DOMAINS:
                raise ValueError(f"claim {self.id}: unknown domain '{d}' (one of {DOMAINS})")

    @property
    def heading(self) -> str:
        """The title, or the slug in words ("copy-memory" -> "Copy memory")."""
        return self.title or self.slug.replace("-", " ").capitalize()

    @property
    def is_check(self) -> bool:
        return self.kind == "check"

    def domain_of(self, arm: str) -> str:
        """The domain an arm's values live in ("proportion" for 0/1 outcomes)."""
        return "proportion" if self.proportion else self.domains.get(arm, self.domain)

    def criterion_key(self) -> str:
        """The criterion at full precision: a change to it is a revision (needs a reason)."""
        return "" if self.criterion is None else repr(self.criterion)

    @property
    def key(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def slug(self) -> str:
        return self.id.split(".", 1)[1]

    def evaluate(self, values: Mapping[str, Sequence[float]]) -> Evaluation | None:
        if self.criterion is None:
            return None
        domains = {arm: self.domain_of(arm) for arm in values}
        ev = self.criterion.evaluate(values, domains, exact=self.is_check)
        if self.is_check:  # a check holds or fails; it is never "reproduced"
            verdict = {Verdict.REPRODUCED: Verdict.HOLDS, Verdict.FAILED: Verdict.FAILED}.get(
                ev.verdict, Verdict.FAILS
            )
            detail = ev.detail
            for old, new in (("not reproduced", "fails"), ("reproduced", "holds")):
                detail = detail.replace(f"→ {old}", f"→ {new}")
            ev = Evaluation(verdict, detail.replace("→ inconclusive", "→ fails (not exact)"))
        return ev


# ---- results --------------------------------------------------------------------------------


@dataclass
class Result:
    """What one run measured for one claim.

    A paper module's `run()` fills `claim_id`, `values` (arm -> one value per seed, in seed
    order; NaN for a diverged seed), and optionally `notes` (events such as "lstm seed 3 diverged
    at step 412"), `extra` (JSON data for notebooks: curves, ...) and figures (`add_figure`).
    The runner fills the rest: summary, verdict, detail, provenance, hash.
    """

    claim_id: str
    values: dict[str, list[float]]
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    figures: list[dict[str, str]] = field(default_factory=list)  # [{"file", "caption"}]
    verdict: Verdict | None = None  # None: not evaluated, or the criterion is not yet specified
    detail: str = ""
    kind: str = "reproduction"
    criterion: str = ""  # the criterion that judged it, as shown ("" in a result stored without it)
    criterion_key: str = ""  # the same at full precision (compared to detect a revision)
    summary: dict[str, ArmSummary] = field(default_factory=dict)
    # Set on load from the record (not stored per result).
    provenance: dict[str, Any] = field(default_factory=dict, repr=False)
    hash: str = ""
    _pending: dict[str, tuple[Any, str]] = field(default_factory=dict, repr=False)

    def add_figure(self, name: str, figure: Any, caption: str = "") -> None:
        """Attach a figure (a matplotlib Figure, or SVG/PNG bytes); written when the record is.

        A Figure is kept as it is and turned into SVG by the runner (`render_figures`), which
        sits above the figure code; this room imports no matplotlib."""
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
            raise ValueError(f"figure name '{name}': use lowercase letters, digits and dashes")
        self._pending[name] = (figure, caption)

    def render_figures(self, to_bytes: Callable[[Any], bytes]) -> None:
        """Turn every pending Figure into bytes with `to_bytes` (bytes are kept as they are)."""
        self._pending = {
            name: (fig if isinstance(fig, bytes) else to_bytes(fig), caption)
            for name, (fig, caption) in self._pending.items()
        }

    def pending_figures(self) -> dict[str, tuple[bytes, str, str]]:
        """name -> (bytes, extension, caption) of the figures not yet written."""
        out = {}
        for name, (data, caption) in self._pending.items():
            if not isinstance(data, bytes):
                raise TypeError(f"figure '{name}' of {self.claim_id} is not rendered to bytes")
            out[name] = (data, ".png" if data.startswith(b"\x89PNG") else ".svg", caption)
        return out

    def finish(self, claim: Claim) -> None:
        """Summaries per arm, then the verdict from the claim's criterion (fixed beforehand)."""
        self.values = {arm: [float(v) for v in vs] for arm, vs in self.values.items()}
        self.summary = {
            arm: summarize(vs, claim.proportion, claim.domain_of(arm).replace("proportion", "real"))
            for arm, vs in self.values.items()
        }
        self.kind = claim.kind
        self.criterion = "" if claim.criterion is None else claim.criterion.describe()
        self.criterion_key = claim.criterion_key()
        ev = claim.evaluate(self.values)
        if ev is None:
            self.verdict, self.detail = None, "criterion not yet specified"
        else:
            self.verdict, self.detail = ev.verdict, ev.detail

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "verdict": None if self.verdict is None else str(self.verdict),
            "detail": self.detail,
            "kind": self.kind,
            "criterion": self.criterion,
            "criterion_key": self.criterion_key,
            "values": self.values,
            "summary": {arm: s.to_dict() for arm, s in self.summary.items()},
            "notes": self.notes,
            "figures": self.figures,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        verdict = d.get("verdict")
        return cls(
            claim_id=d["claim_id"],
            values={arm: [float(v) for v in vs] for arm, vs in d.get("values", {}).items()},
            notes=list(d.get("notes", [])),
            extra=dict(d.get("extra", {})),
            figures=list(d.get("figures", [])),
            verdict=None if verdict is None else Verdict(verdict),
            detail=d.get("detail", ""),
            kind=d.get("kind", "reproduction"),
            criterion=d.get("criterion", ""),
            criterion_key=d.get("criterion_key", ""),
            summary={a: ArmSummary.from_dict(s) for a, s in d.get("summary", {}).items()},
        )


@dataclass
class Record:
    """One run of one paper module: a Result per claim, provenance, and the hashes it was run at.

    `hashes` has "code", "config", "env", "seeds"; `hash` combines them (the cache key). A stored
    record is stale when its code or config hash differs from the current one. `history`: every
    revision of a criterion or of the confirmation seeds, oldest first, each with its reason.
    """

    key: str
    hash: str
    hashes: dict[str, str]
    provenance: dict[str, Any]
    results: dict[str, Result]
    schema: int = SCHEMA
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "key": self.key,
            "hash": self.hash,
            "hashes": self.hashes,
            "provenance": self.provenance,
            "results": {cid: r.to_dict() for cid, r in self.results.items()},
            "history": self.history,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Record:
        rec = cls(
            key=d["key"],
            hash=d["hash"],
            hashes=dict(d.get("hashes", {})),
            provenance=dict(d.get("provenance", {})),
            results={cid: Result.from_dict(r) for cid, r in d.get("results", {}).items()},
            schema=d.get("schema", SCHEMA),
            history=list(d.get("history", [])),
        )
        for r in rec.results.values():
            r.provenance, r.hash = rec.provenance, rec.hash
        return rec
