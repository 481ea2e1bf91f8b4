# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exploring a claim (template)
#
# A percent-format notebook to poke at one claim before, or after, its module is written. Open it
# with Jupyter and jupytext, or run it cell by cell in an editor that knows `# %%`. It uses the
# same pieces as `nox -s repro`: the paper's `Config` at a scale, the shared training loop, the
# stored results. The site shows it unexecuted; nothing here runs when the site is built.
#
# The example is the latching experiment of Bengio et al. [@bengio1994learning]: change `KEY` and
# the cells below to your paper.

# %%
import tempfile
from pathlib import Path

from repro import runner
from repro.claims import load_record

KEY = "bengio1994learning"
paper = runner.discover()[KEY]
for claim in paper.claims:
    print(claim.id, "|", claim.criterion or "criterion not yet specified")

# %% [markdown]
# ## The stored verdict
#
# What the site shows: the last full run, from `docs/results/<key>/result.json`.

# %%
record = load_record(runner.committed_dir(), KEY)
for claim_id, result in record.results.items() if record else []:
    print(claim_id, result.verdict, {arm: s.text() for arm, s in result.summary.items()})

# %% [markdown]
# ## A run of your own, at quick scale
#
# `run_paper` writes to a scratch folder here, never over the committed result. Vary one Config
# field with `overrides` to see how the effect depends on it; a criterion is fixed in the module
# before the full run and is not changed to fit what you see here.

# %%
out = runner.run_paper(paper, scale="quick", results_dir=Path(tempfile.mkdtemp()), force=True)
for claim_id, result in out.record.results.items():
    print(claim_id, result.verdict, result.detail)
