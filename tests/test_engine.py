"""The engine: reproducibility, common random numbers, budgets, and DAPO's dynamic sampling."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from foundation_helpers import hand_view, tiny, tiny_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simbench.core.config import ConfigError, build
from simbench.core.runner import run_scenario
from simbench.core.store import write_results
from simbench.worlds import parse_scenario
from simbench.worlds.rl.allocators.dapo import DAPOExhausted
from simbench.worlds.rl.downsamplers.dapo_filter import DAPOFilter, DAPOFilterParams
from simbench.worlds.rl.engine import Cell, run_cell
from simbench.worlds.rl.scenario import Scenario

TWO = [{"allocator": {"kind": "uniform", "n": 4}}, {"allocator": {"kind": "dapo", "n": 4, "on_exhausted": "train"}}]


# -- reproducibility ---------------------------------------------------------
def test_same_scenario_and_seed_give_the_same_bytes(tmp_path):
    sc = tiny(strategies=TWO)
    a = run_scenario(sc, progress=False)
    b = run_scenario(sc, progress=False)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    write_results(a, tmp_path / "a")
    write_results(b, tmp_path / "b")
    assert (tmp_path / "a" / "results.parquet").read_bytes() == (tmp_path / "b" / "results.parquet").read_bytes()


def test_one_worker_equals_two_workers():
    sc = tiny(strategies=TWO, seeds=3)
    serial = run_scenario(sc, workers=1, progress=False)
    parallel = run_scenario(sc, workers=2, progress=False)
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)


def test_a_reloaded_scenario_gives_the_same_results(tmp_path):
    import tomli_w

    sc = tiny(strategies=TWO)
    path = tmp_path / "again.toml"
    path.write_text(tomli_w.dumps(sc.to_dict()))
    from simbench.worlds import load_scenario

    again = load_scenario(path)
    assert again.world_hash() == sc.world_hash()
    pd.testing.assert_frame_equal(pd.DataFrame(run_cell(sc, 1, 0)), pd.DataFrame(run_cell(again, 1, 0)), check_exact=True)


def test_seeds_differ():
    sc = tiny()
    a, b = pd.DataFrame(run_cell(sc, 0, 0)), pd.DataFrame(run_cell(sc, 0, 1))
    assert not a["test_pass"].equals(b["test_pass"])


def test_strategies_share_population_and_batch_order():
    """Common random numbers: every strategy of a seed sees the same pools and the same prompt order."""
    strategies = [{"allocator": {"kind": "uniform", "n": 2}, "name": "n2"}, {"allocator": {"kind": "uniform", "n": 16}, "name": "n16"}]
    sc = tiny(strategies=strategies)
    cells = [Cell(sc, s, 0) for s in range(2)]
    np.testing.assert_array_equal(cells[0].learner.train.p0, cells[1].learner.train.p0)
    np.testing.assert_array_equal(cells[0].learner.test.x, cells[1].learner.test.x)
    for step in range(1, 5):
        views = []
        for cell in cells:
            v, keep, _, _ = cell.run_step(step, math.inf)
            cell.record(v, keep)
            views.append(v)
        np.testing.assert_array_equal(views[0].prompts, views[1].prompts)
    assert Cell(sc, 0, 1).learner.train.p0.tolist() != cells[0].learner.train.p0.tolist()


def test_rows_have_consistent_accounting():
    rows = pd.DataFrame(run_cell(tiny(strategies=TWO), 1, 0))
    assert rows["step"].tolist() == list(range(len(rows)))
    assert (rows["cum_samples"] == rows["samples"].cumsum()).all()
    assert (rows["cum_tokens"] == rows["tokens"].cumsum()).all()
    body = rows.iloc[1:]
    assert (body["groups_all_pass"] + body["groups_all_fail"] + body["groups_mixed"] == body["prompts"]).all()
    assert ((body["effective_ratio"] >= 0) & (body["effective_ratio"] <= 1)).all()


# -- budgets -----------------------------------------------------------------
budget_settings = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def budget_rows(budget: dict, which: int, seed: int = 0, **sections):
    """The rows of a tiny run, or None when the budget is refused: exactly when one group of n = 4 does not fit.

    A group costs 4 samples, or 4 x 600 tokens at step 1 (an unseen sample is priced at lengths.mean); a smaller
    budget would train nothing, so it is a ConfigError naming the budget key.
    """
    group = 4.0 if budget["unit"] == "samples" else 4 * 600.0
    binding = min(budget.get("per_step", math.inf), budget.get("total", math.inf))
    try:
        rows = run_cell(tiny(budget=budget, strategies=[TWO[which]], **sections), 0, seed)
    except ConfigError as err:
        assert err.where.startswith("budget.") and binding < group, str(err)
        return None
    assert binding >= group
    return rows


@budget_settings
@given(per_step=st.floats(0, 40_000), which=st.integers(0, 1), seed=st.integers(0, 5))
def test_token_budget_per_step_is_never_exceeded(per_step, which, seed):
    rows = budget_rows({"unit": "tokens", "per_step": per_step}, which, seed, engine={"steps": 4, "batch_prompts": 16})
    for row in (rows or [])[1:]:
        assert row["tokens"] <= per_step


@budget_settings
@given(total=st.floats(1, 60_000), per_step=st.one_of(st.just(math.inf), st.floats(0, 30_000)), which=st.integers(0, 1))
def test_total_token_budget_is_never_exceeded(total, per_step, which):
    rows = budget_rows({"unit": "tokens", "per_step": per_step, "total": total}, which)
    if rows is not None:
        assert rows[-1]["cum_tokens"] <= total
        assert all(r["tokens"] <= per_step for r in rows)


@budget_settings
@given(per_step=st.integers(0, 100), which=st.integers(0, 1))
def test_sample_budget_per_step_is_never_exceeded(per_step, which):
    rows = budget_rows({"unit": "samples", "per_step": float(per_step)}, which)
    assert all(r["samples"] <= per_step for r in rows or [])


# -- DAPO ----------------------------------------------------------------------
def test_dapo_filter_hand_computed():
    groups = [[1, 1, 1, 1], [0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 1], [0, 1, 1, 0], [1], [0, 0, 1, 1]]
    view = hand_view(groups)
    keep = DAPOFilter(DAPOFilterParams(train_batch=3)).keep(view)
    # informative: slots 1, 3, 4 (mixed), 5 (a group of one, kept as verl does), 6; the first three train
    want = [0] * 4 + [1] * 4 + [0] * 4 + [1] * 4 + [1] * 4 + [0] + [0] * 4
    np.testing.assert_array_equal(keep, np.array(want, bool))
    # with room for everything, every informative group and nothing else
    keep = DAPOFilter(DAPOFilterParams(train_batch=100)).keep(view)
    want = [0] * 4 + [1] * 4 + [0] * 4 + [1] * 4 + [1] * 4 + [1] + [1] * 4
    np.testing.assert_array_equal(keep, np.array(want, bool))
    # train_batch = 0 means the engine's batch_prompts
    keep = DAPOFilter(DAPOFilterParams()).keep(hand_view(groups, batch_prompts=1))
    assert keep.sum() == 4 and keep[4:8].all()


def dapo_cell(tmp_path, rates, **alloc):
    (tmp_path / "rates.csv").write_text("p\n" + "\n".join(map(str, rates)) + "\n")
    data = tiny_data(population={"train_prompts": 96, "test_prompts": 16, "pass_rate": {"kind": "table", "path": "rates.csv"}},
                     engine={"steps": 3, "batch_prompts": 8},
                     strategies=[{"allocator": {"kind": "dapo", "n": 4, **alloc}}])
    return Cell(parse_scenario(data, base_dir=str(tmp_path)), 0, 0)


def test_dapo_in_the_engine_keeps_the_first_mixed_groups_and_counts_every_sample(tmp_path):
    cell = dapo_cell(tmp_path, [0.0, 1.0, 0.5, 0.3], gen_batch=12, train_batch=8, max_num_gen_batches=0)
    for step in range(1, 4):
        v, keep, adv, waves = cell.run_step(step, math.inf)
        cell.record(v, keep)
        row = cell.metrics(step, v, keep, adv, waves)
        # every generation batch is 12 prompts x 4 samples, all counted
        assert row["samples"] == len(v.sample_slot) == waves * 12 * 4
        assert (v.drawn == 4).all() and len(v.prompts) == waves * 12
        assert (v.added_wave == np.repeat(np.arange(waves), 12)).all()
        # hand rule: mixed groups in generation (slot) order, the first 8 train, the rest are wasted
        mixed = (v.pos > 0) & (v.pos < v.drawn)
        chosen = np.flatnonzero(mixed)[:8]
        assert len(chosen) == 8
        np.testing.assert_array_equal(keep, np.isin(v.sample_slot, chosen))
        assert row["trained_prompts"] == 8 and row["trained_samples"] == 32
        # waves stop as soon as the batch is full: without the last wave it was not
        assert mixed[v.added_wave < waves - 1].sum() < 8
        assert np.isfinite(adv).all() and not adv[~keep].any()


def test_dapo_exhausted_raises_with_on_exhausted_error(tmp_path):
    rates = [0.0, 1.0] * 3 + [0.5]  # about 1 in 7 prompts can give a mixed group
    cell = dapo_cell(tmp_path, rates, gen_batch=8, train_batch=8, max_num_gen_batches=2)
    with pytest.raises(DAPOExhausted, match="max_num_gen_batches=2"):
        cell.run_step(1, math.inf)


def test_dapo_exhausted_trains_on_what_was_kept_with_on_exhausted_train(tmp_path):
    rates = [0.0, 1.0] * 3 + [0.5]
    cell = dapo_cell(tmp_path, rates, gen_batch=8, train_batch=8, max_num_gen_batches=2, on_exhausted="train")
    phi = cell.learner.phi.copy()
    v, keep, adv, waves = cell.run_step(1, math.inf)
    assert waves == 2 and len(v.sample_slot) == 2 * 8 * 4
    mixed = (v.pos > 0) & (v.pos < v.drawn)
    assert 0 < mixed.sum() < 8
    np.testing.assert_array_equal(keep, mixed[v.sample_slot])
    assert not np.array_equal(cell.learner.phi, phi)  # it trained on the kept groups


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**20), n=st.integers(1, 9), which=st.integers(0, 1), unit=st.sampled_from(["samples", "tokens"]),
       per_step=st.floats(0, 20_000))
def test_determinism_property(seed, n, which, unit, per_step):
    alloc = [{"kind": "uniform", "n": n}, {"kind": "dapo", "n": n, "on_exhausted": "train"}][which]
    group = n * (1 if unit == "samples" else 600)  # smaller budgets train nothing and are refused (budget_rows)
    sc = tiny(seed=seed, budget={"unit": unit, "per_step": group + per_step}, strategies=[{"allocator": alloc}],
              engine={"steps": 3, "batch_prompts": 8})
    a, b = pd.DataFrame(run_cell(sc, 0, 0)), pd.DataFrame(run_cell(sc, 0, 0))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_effective_ratio_is_the_share_of_samples_in_mixed_groups():
    """Uniform GRPO keeps everything, and exactly the samples of mixed groups get a nonzero advantage."""
    rows = pd.DataFrame(run_cell(tiny(strategies=[{"allocator": {"kind": "uniform", "n": 6}}]), 0, 0)).iloc[1:]
    np.testing.assert_allclose(rows["effective_ratio"], rows["groups_mixed"] * 6 / rows["samples"], rtol=1e-15)
    assert (rows["trained_samples"] == rows["samples"]).all()


@pytest.mark.parametrize("which", [0, 1])
def test_history_accounts_for_every_sample_even_with_repeated_prompts(which):
    """A batch larger than the pool puts prompts in two slots of one step; the history must still add up.

    Scenario files refuse such a batch (``check_pool``), but replay steps and DAPO's later waves repeat
    prompts within a step too, so the engine is built here without that load-time check.
    """
    data = tiny_data(population={"train_prompts": 10, "test_prompts": 8}, engine={"steps": 6, "batch_prompts": 16},
                     strategies=[TWO[which]])
    sc = build(Scenario, data)
    cell = Cell(sc, 0, 0)
    samples = tokens = correct = 0
    for step in range(1, 7):
        v, keep, adv, _ = cell.run_step(step, math.inf)
        cell.record(v, keep)
        samples += len(v.sample_slot)
        tokens += int(v.sample_length.sum())
        correct += int(v.sample_reward.sum())
        h = cell.history
        assert h.n.sum() == samples and h.tokens.sum() == tokens and h.pos.sum() == correct
        # last_* hold this step's totals for every prompt drawn this step (both slots of a repeated prompt)
        here = np.unique(v.prompts[v.drawn > 0])
        want_n = np.bincount(v.prompts, weights=v.drawn, minlength=10)[here]
        np.testing.assert_array_equal(h.last_n[here], want_n)
        assert (h.last_step[here] == step).all()
    assert len(np.unique(v.prompts)) < len(v.prompts)  # the case did arise


def test_roles_with_their_own_observe_and_step_metrics_are_called_and_a_replaced_role_too():
    """The engine skips the base class's no-op ``observe``/``step_metrics``, never a role's own, an
    instance's patched one, or those of a role put in after the cell was built."""
    cell = Cell(tiny(strategies=[{"allocator": {"kind": "uniform", "n": 4}}]), 0, 0)
    assert cell._role_flags()[2:] == ((), ())  # uniform, epoch_shuffle, keep_all, grpo: nothing of their own
    seen = []
    cell.selector.observe = lambda v, keep, adv: seen.append(("selector", v.step))

    class Counting(type(cell.allocator)):
        def observe(self, view, keep, adv):
            seen.append(("allocator", view.step))

        def step_metrics(self):
            return {"observed": sum(s[0] == "allocator" for s in seen)}

    cell.allocator = Counting(cell.allocator.params)
    cell.allocator.reset(cell.info, np.random.default_rng(0))
    rows = cell.run()
    steps = [r["step"] for r in rows[1:]]
    assert steps and seen == [(who, s) for s in steps for who in ("selector", "allocator")]
    assert [r["observed"] for r in rows[1:]] == steps  # each row is made after its step's observe


@pytest.mark.parametrize("oracle, norms", [(False, False), (True, True)])
def test_a_view_holds_each_of_the_steps_arrays_under_its_own_name(oracle, norms):
    """``Cell.view`` builds the StepView positionally (cheaper): every field gets the state's array of its name."""
    from simbench.worlds.rl.engine import StepState

    cell = Cell(tiny(engine={"steps": 2, "batch_prompts": 16}), 0, 0)
    st = StepState()
    names = {"prompts": "prompts", "added_wave": "added", "group": "group", "drawn": "drawn", "pos": "pos", "cost": "cost",
             "sample_slot": "slot", "sample_reward": "reward", "sample_length": "length", "sample_wave": "wave",
             "truth_p": "p", "truth_G": "truth_G", "sample_grad_norm": "grad_norm"}
    for attr in set(names.values()):
        setattr(st, attr, np.zeros(1))  # a distinct object each
    v = cell.view(st, 7, 3, 12.5, oracle, norms)
    assert (v.step, v.wave, v.budget_left, v.history, v.info, v.time_cost) == (7, 3, 12.5, cell.history, cell.info, None)
    for field, attr in names.items():
        shown = (oracle or field not in ("truth_p", "truth_G")) and (norms or field != "sample_grad_norm")
        assert getattr(v, field) is (getattr(st, attr) if shown else None), field
