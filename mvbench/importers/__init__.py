"""Importers: outside prompt and annotation formats -> mvbench suite documents.

One module per format, each turning files the user already has into a suite document
(:mod:`mvbench.suite` format); nothing is downloaded. ``mvbench import FORMAT SOURCE --out suite.json``
runs them from the command line (``docs/suites.md``, "Importing published evaluation sets").

* :mod:`mvbench.importers.vbench`: VBench-2.0 prompt files (txt, meta-info JSON, full-text info JSON).
* :mod:`mvbench.importers.moviebench`: MovieBench shot annotations, character banks and its data split.
"""
