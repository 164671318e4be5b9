"""Exact optimisation over trained LightGBM models: a MILP in Pyomo solved by HiGHS, verified by the model.

Public entry points: `Problem`, `solve`, `Domain`, `LinearConstraint`, `ModelSpec`, `trust_region`.
"""

from engine.optim.constraints import LinearConstraint, ModelSpec, TrustRegion, trust_region
from engine.optim.solve import Infeasible, NoFeasiblePoint, Problem, Solution, solve
from engine.optim.trees import Domain, UnsupportedModel

__all__ = ["Domain", "Infeasible", "LinearConstraint", "ModelSpec", "NoFeasiblePoint", "Problem", "Solution",
           "TrustRegion", "UnsupportedModel", "solve", "trust_region"]
