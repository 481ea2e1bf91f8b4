"""Kit room: what the paper cards are built from (training loop, placement, tasks, layers,
figures, and experiment helpers that more than one paper uses). Imports only `repro.claims`."""
