"""Run room: configs and overrides, discovery, hashing and provenance, the runner, claim states.

Stands on `repro.kit` (placement, figures) and `repro.claims`; nothing here imports the site or
the command line.
"""
