"""Site room: the MkDocs plugin, claim blocks, BibTeX handling, the joins checker, result checks
and the results notebook. Stands on `repro.run` and `repro.claims`."""
