"""GVM with the latent truth: the allocation GVM would make if it knew p_i and G_i (an upper reference)."""
from __future__ import annotations

import numpy as np

from simbench.registry import register
from simbench.worlds.rl.allocators.gvm import GVM, GVMParams
from simbench.worlds.rl.roles import StepView


@register
class GVMOracle(GVM):
    """GVM oracle: n_i from the latent p_i and G_i, no stage 1 (upper reference)."""

    name = "gvm_oracle"
    Params = GVMParams
    waves = 1  # its allocate returns all zeros after wave 0
    uses_oracle = True
    needs_grad_norms = False

    def allocate(self, view: StepView) -> np.ndarray:
        if view.wave > 0:
            return np.zeros(view.n_slots, np.int64)
        return self.stage2(view, view.truth_p, view.truth_G)

    def default_downsampler(self):
        return None
