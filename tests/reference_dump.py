"""A slow transcription of DUMP's UCB scheduler (arXiv 2504.09710, ZhentingWang/DUMP), in plain Python."""
from __future__ import annotations

import math


class ReferenceDUMP:
    def __init__(self, n_sources, window=300, c=1.0, tau=0.1):
        self.hist = [[] for _ in range(n_sources)]
        self.count = [0] * n_sources
        self.window, self.c, self.tau = window, c, tau

    def add(self, source, advantage):
        self.hist[source].append(abs(advantage))
        self.hist[source] = self.hist[source][-self.window:]
        self.count[source] += 1

    def weights(self, available):
        total = sum(self.count)
        ucb = []
        for j in range(len(self.hist)):
            mu = sum(self.hist[j]) / len(self.hist[j]) if self.hist[j] else 0.0
            ucb.append(mu + self.c * math.sqrt(2 * math.log(total + 1) / (self.count[j] + 1)))
        top = max(u for u, a in zip(ucb, available) if a)
        e = [math.exp((u - top) / self.tau) if a else 0.0 for u, a in zip(ucb, available)]
        s = sum(e)
        return [x / s for x in e]
