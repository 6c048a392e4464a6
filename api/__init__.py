"""consensus-refmodel: a checkable reference model of Raft and Proof-of-Authority.

Installed, everything lives under this import root: ``refmodel.model`` (the protocols), ``refmodel.invariants``
(named properties) and ``refmodel.checkers`` (the engines, renderers and command line).
"""
