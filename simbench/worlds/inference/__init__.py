"""The inference world: test-time compute allocation over queries (repeated sampling, voting, verifiers, adaptive stopping).

A budget of samples or tokens is spent on queries of different difficulty; an
allocator decides how many samples each query gets and when it stops, a picker
which answer is returned.  Every strategy reads prefixes of the same per-query
sample tapes, so comparisons are paired (common random numbers).
"""
