"""replcheck's explicit-state model of multi-leader replication.

Pure and deterministic: specs (:mod:`model.spec`) compile into a transition
system (:mod:`model.system`) over frozen, hashable states, explored by the
engines of :mod:`model.search`.  This package never imports ``checks``,
never prints, and never imports z3.
"""

from replcheck.model.errors import ReplcheckError, SpecError, TraceError
from replcheck.model.search import EVERY, QUIESCENT, Bounds, Property, SearchResult, bfs, dfs
from replcheck.model.spec import Spec, load_spec, parse_spec
from replcheck.model.system import System

__all__ = ["ReplcheckError", "SpecError", "TraceError", "EVERY", "QUIESCENT", "Bounds", "Property",
           "SearchResult", "bfs", "dfs", "Spec", "load_spec", "parse_spec", "System"]
