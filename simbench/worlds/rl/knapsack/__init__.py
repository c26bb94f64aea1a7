"""Knapsack allocation of rollouts: utilities, and three solvers (greedy heap, exact DP, cvxpy relaxation).

maximise sum_i u_i(n_i)  subject to  sum_i c_i n_i <= B,  n_i in {0} U [n_min, n_max].
"""
from simbench.worlds.rl.knapsack.dp import dp_allocate
from simbench.worlds.rl.knapsack.greedy import greedy_allocate
from simbench.worlds.rl.knapsack.utilities import UTILITIES, value_table

__all__ = ["UTILITIES", "dp_allocate", "greedy_allocate", "value_table"]
