"""The equitable data-collection world (Cai et al., FAccT 2022, arXiv 2202.01327).

A model builder spends a budget collecting samples from K groups with their own
costs; a polygenic risk score is trained on everything collected; each group's
performance is measured on a large held-out test set of that group.
"""
