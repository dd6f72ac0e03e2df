"""cloudshift's analyser and rewriter.

The pipeline, one module each under engine/: discovery -> prefilter -> parse -> resolve -> detect
-> plan -> rewrite, then gate/ reports. `cloudshift.api` is the entry point every front end calls.
"""
