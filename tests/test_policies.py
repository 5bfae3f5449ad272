"""Policies move outcomes the way the literature expects, with money conserved."""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sim import P2PModel, load_scenario
from sim.config import ShockConfig
from sim.vocabulary import Owner, Status
from tests.helpers import calm_scenario, small_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FULL_COVER = ["policies.protection_fund.enabled=true",
              "policies.protection_fund.public_backstop=true",
              "policies.protection_fund.coverage_share=1.0",
              "policies.protection_fund.coverage_cap=1e12"]


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_fully_backed_fund_removes_the_panic_run_on_a_solvent_platform(seed):
    """Diamond and Dybvig (1983): credible full cover removes the motive to run."""
    base = ["run.days=150", f"run.seed={seed}"]
    without = P2PModel(load_scenario(SCENARIOS / "liquidity_run.toml", base))
    without.run()
    with_fund = P2PModel(load_scenario(SCENARIOS / "liquidity_run.toml", base + FULL_COVER),
                         check_invariants=True)
    with_fund.run()
    assert without.summary()["failures_run"] >= 1, "the run happens without cover"
    assert with_fund.summary()["failures_run"] == 0
    assert with_fund.summary()["protection_levies"] > 0


def wave_scenario(**fund):
    sc = small_scenario(platforms={"count": 8, "share_ponzi": 0.0, "share_fraud": 0.0,
                                  "entry_per_year": 0.0},
                       resolution={"max_days": 200})
    sc.run.days = 60
    sc.policies.protection_fund.enabled = True
    for key, value in fund.items():
        setattr(sc.policies.protection_fund, key, value)
    sc.shocks = [ShockConfig(type="fraud", start=10, platform=f"P000{i}") for i in range(4)]
    return sc


def test_fund_without_backstop_runs_dry_in_a_large_wave_and_investors_notice():
    model = P2PModel(wave_scenario(payout_delay_days=5, initial_fund=0.002), check_invariants=True)
    model.run()
    s = model.summary()
    assert s["protection_fund_dry_day"] == 15
    assert s["protection_credibility_end"] < 1.0
    events = model.events_table()
    first = events.query("event == 'protection_payout'").iloc[0]
    assert 0 < json.loads(first["details"])["share_paid"] < 1, "owed more than the fund held"
    assert (events["event"] == "fund_depleted").sum() == 1
    assert model.conditions.coverage[: model.platforms.n].max() < 0.9, "cover investors count on fell"


def test_backstop_pays_everything_owed_and_keeps_credibility():
    model = P2PModel(wave_scenario(payout_delay_days=5, public_backstop=True),
                     check_invariants=True)
    model.run()
    s = model.summary()
    assert s["protection_fund_dry_day"] is None
    assert s["protection_credibility_end"] == 1.0
    assert model.ledger.total("fund_inflows") > 0, "the government topped the fund up"
    paid = model.events_table().query("event == 'protection_payout'")
    assert len(paid) == 4 and (paid["day"] == 15).all()


def test_cover_is_capped_per_position_and_paid_after_the_delay():
    model = P2PModel(wave_scenario(payout_delay_days=3, coverage_share=0.5, coverage_cap=50.0,
                                   public_backstop=True), check_invariants=True)
    inv = model.investors
    model.run(10)  # the four platforms fail on day 10
    victims = np.isin(inv.pos_platform, [0, 1, 2, 3])
    claims = inv.pos_principal[victims].copy()
    model.run(2)
    assert model.policies.get("protection_fund").paid_out == 0.0, "nothing before the delay"
    model.run(1)
    expected = np.minimum(0.5 * claims, 50.0).sum()
    assert model.policies.get("protection_fund").paid_out == pytest.approx(expected, rel=1e-9)


def huijin_failure_day(sets: list[str]) -> int | None:
    model = P2PModel(load_scenario(SCENARIOS / "liquidity_run.toml", ["run.days=160", *sets]))
    model.run()
    days = [f["day"] for f in model.failures if model.platform_agents[f["platform"]].name
            == "Huijin"]
    return (days[0] if days else None), model.summary()["credit_supplied"]


def test_liquidity_reserve_delays_then_prevents_the_run_at_a_cost_in_credit():
    none_day, none_credit = huijin_failure_day([])
    mild_day, mild_credit = huijin_failure_day(["policies.liquidity_reserve.enabled=true",
                                                "policies.liquidity_reserve.ratio=0.3"])
    strong_day, strong_credit = huijin_failure_day(["policies.liquidity_reserve.enabled=true",
                                                    "policies.liquidity_reserve.ratio=0.5"])
    assert none_day is not None and mild_day is not None and mild_day > none_day
    assert strong_day is None, "a large enough reserve rides out the run"
    assert none_credit > mild_credit > strong_credit, "the trade-off: less credit supplied"


def test_redemption_gates_stop_the_run_from_killing_the_platform():
    none_day, _ = huijin_failure_day([])
    gated_day, _ = huijin_failure_day(["policies.redemption_gates.enabled=true"])
    assert none_day is not None and gated_day is None


def market(**policies) -> P2PModel:
    sc = load_scenario(SCENARIOS / "baseline.toml", [
        "investors.count=3000", "borrowers.count=600", "platforms.count=30", "run.days=120",
        "platforms.entry_per_year=60", "platforms.share_fraud=0.15", "platforms.share_ponzi=0.15",
        "platforms.leverage_median=1.5",
        *[f"policies.{k}={v}" for k, v in policies.items()]])
    sc.shocks = [ShockConfig(type="fraud", start=30, platform="largest")]
    model = P2PModel(sc, check_invariants=True)
    model.run()
    return model


def test_custody_removes_absconding_and_diversion_losses():
    free, held = market(), market(**{"custody.enabled": "true"})
    assert free.summary()["stolen"] > 0
    assert held.summary()["stolen"] == 0.0
    assert held.platforms.demand_share[: held.platforms.n].max() == 0.0, "no pooled demand money"


def test_entry_threshold_lowers_the_share_of_fraud_prone_platforms():
    def fraud_share(model):
        table = model.platform_table()
        open_ = table[table["status"].isin(["ACTIVE", "DISTRESSED"])]
        return (open_["owner"] != "honest").mean()

    free = market()
    strict = market(**{"entry_threshold.enabled": "true", "entry_threshold.min_capital": "3e8",
                       "entry_threshold.grace_days": "60"})
    assert fraud_share(strict) < fraud_share(free)
    closed = strict.events_table().query("event == 'deadline_notice'")
    assert len(closed) > 0, "fraud-prone incumbents below the threshold were told to exit"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_credit_information_lowers_the_default_risk_of_the_loan_book(seed):
    """S1 §3(2): fewer inflated reports and better screening fund safer borrowers."""
    def book_pd(sets):
        sc = load_scenario(SCENARIOS / "baseline.toml", [
            "investors.count=4000", "borrowers.count=3000", "platforms.count=20",
            "run.days=240", "platforms.share_fraud=0", "platforms.share_ponzi=0",
            "platforms.leverage_median=1.5", "borrowers.pd_mean=0.12", f"run.seed={seed}",
            "borrowers.misreport_share=0.6", "platforms.screening_mean=0.3", *sets])
        model = P2PModel(sc)
        model.run()
        live = model.loans.live()
        live = live[~model.loans.fake[live]]
        principal = model.loans.principal[live]
        pd = model.borrowers.true_pd[model.loans.borrower[live]]
        return float((pd * principal).sum() / principal.sum())

    assert book_pd(["policies.credit_information.enabled=true"]) < 0.9 * book_pd([])


def test_borrowing_caps_bind_and_cost_credit():
    free = market()
    capped = market(**{"borrowing_caps.enabled": "true", "borrowing_caps.per_platform": "5e4",
                       "borrowing_caps.max_lenders": "1"})
    book = capped.loans
    assert book.principal[: book.n][~book.fake[: book.n]].max() <= 5e4 + 1e-6
    assert capped.summary()["credit_supplied"] < free.summary()["credit_supplied"]


def test_maturity_limit_removes_demand_products_and_short_terms():
    limited = market(**{"maturity_limit.enabled": "true", "maturity_limit.min_term_days": "90"})
    inv = limited.investors
    held = inv.pos_platform >= 0
    assert not inv.pos_demand[held].any()
    assert (inv.pos_maturity[held] < inv.never).all(), "every position has a maturity"
    assert set(limited.conditions.product_terms) == {90, 180}


def _credit_downturn(seed: int, *sets: str):
    model = P2PModel(load_scenario(SCENARIOS / "credit_downturn.toml", [
        "run.days=400", f"run.seed={seed}", *sets]))
    model.run()
    return model


@pytest.mark.slow
def test_risk_reserve_absorbs_loan_losses_so_fewer_platforms_go_insolvent():
    """S1 §3(2): losses hit the reserve before investors; borrowers pay for it in fees."""
    without, with_reserve = [], []
    for seed in (1, 2, 3):
        without.append(_credit_downturn(seed).summary()["failures_insolvency"])
        model = _credit_downturn(seed, "policies.risk_reserve.enabled=true")
        s = model.summary()
        with_reserve.append(s["failures_insolvency"])
        assert s["reserve_cover"] > 0
        # The cost: borrowers paid the fees, on top of their interest.
        assert s["reserve_fees"] == pytest.approx(0.02 * model.ledger.total("loans_made"))
    assert sum(without) >= 5, "the downturn makes platforms insolvent"
    assert sum(with_reserve) < 0.5 * sum(without)
    assert all(w <= o for w, o in zip(with_reserve, without, strict=True))


@pytest.mark.slow
def test_an_exhausted_reserve_covers_no_more_than_it_holds():
    model = _credit_downturn(1, "policies.risk_reserve.enabled=true",
                             "policies.risk_reserve.fee_rate=0.001")
    s = model.summary()
    assert 0 < s["reserve_cover"] <= s["reserve_fees"]
    assert s["failures_insolvency"] >= 2, "a thin reserve does not stop the insolvencies"


def test_an_advertised_reserve_is_cover_investors_count_on():
    model = _credit_downturn(1, "policies.risk_reserve.enabled=true", "run.days=30")
    n = model.platforms.n
    expected = np.minimum(model.ledger.balance("risk_reserve")[:n]
                          / np.maximum(model.platforms.products[:n], 1.0), 1.0)
    model.policies.start_of_day()
    assert np.allclose(model.conditions.coverage[:n], expected) and expected.max() > 0


def _fraud_market(seed: int, *sets: str):
    sc = load_scenario(SCENARIOS / "stress_2018.toml", [
        "run.days=400", f"run.seed={seed}", "investors.count=15000", "borrowers.count=3000",
        "platforms.share_ponzi=0.2", "platforms.share_fraud=0.2", *sets])
    model = P2PModel(sc)
    model.run()
    return model


EARLY_WARNING = ["policies.early_warning.enabled=true",
                 "policies.early_warning.inspections_per_review=10"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_early_warning_winds_platforms_down_before_they_fail(seed):
    """S4: flagged, inspected platforms are wound down in order before they would fail."""
    without = _fraud_market(seed)
    model = _fraud_market(seed, *EARLY_WARNING)
    s = model.summary()
    failed_without = {f["platform"]: f["day"] for f in without.failures
                      if f["cause"] in ("run", "insolvency", "absconding")}
    wound = {f["platform"]: f["day"] for f in model.failures
             if f["cause"] == "supervisory_winddown"}
    earlier = [i for i, day in wound.items() if i in failed_without and day < failed_without[i]]
    assert earlier, "some platform that failed without supervision was wound down before"
    assert s["failures_disorderly"] < without.summary()["failures_disorderly"]
    assert s["ew_hits"] + s["ew_false_alarms"] == s["ew_inspections"]
    assert s["ew_mean_lead_days"] > 0
    assert s["ew_failures_foreseen"] + s["ew_failures_missed"] == s["failures_disorderly"]


def test_inspection_capacity_limits_inspections():
    model = _fraud_market(1, *EARLY_WARNING[:1], "policies.early_warning.inspections_per_review=2",
                          "policies.early_warning.review_days=50", "run.days=200")
    per_review = Counter(r["day"] for r in model.policies.get("early_warning").inspections)
    assert per_review and max(per_review.values()) <= 2
    assert set(per_review) <= {50, 100, 150, 200}


@functools.cache
def _ponzi_market(seed: int, policies: tuple[str, ...] = ()) -> dict:
    """A market with many Ponzi and fraud owners: money they attract and divert."""
    sets = [f"policies.{name}.enabled=true" for name in policies]
    model = P2PModel(load_scenario(SCENARIOS / "baseline.toml", [
        "run.days=365", f"run.seed={seed}", "investors.count=30000", "borrowers.count=6000",
        "platforms.count=40", "platforms.share_ponzi=0.15", "platforms.share_fraud=0.15",
        *sets]))
    model.run()
    n = model.platforms.n
    deposits = model.ledger.flows["deposits"][:n]
    ponzi = model.platforms.owner[:n] == Owner.PONZI
    return {"ponzi_deposit_share": deposits[ponzi].sum() / deposits.sum(),
            "stolen": model.summary()["stolen"]}


def _mean(outcome: str, policies: tuple[str, ...] = ()) -> float:
    return float(np.mean([_ponzi_market(seed, policies)[outcome] for seed in (1, 2, 3)]))


@pytest.mark.slow
def test_disclosure_lets_investors_see_ponzi_books_so_less_money_is_diverted():
    """S0 §V.D, S2: disclosure shows fake loans to investors who read the signal."""
    assert _mean("stolen", ("disclosure",)) < 0.97 * _mean("stolen")


@pytest.mark.slow
def test_education_moves_money_away_from_high_rate_ponzi_platforms():
    """S0 §V.D: literate investors weigh risk against the promised rate."""
    assert _mean("ponzi_deposit_share", ("education",)) < 0.9 * _mean("ponzi_deposit_share")
    assert _mean("stolen", ("education",)) < 0.9 * _mean("stolen")


@pytest.mark.slow
def test_disclosure_and_education_work_best_together():
    """Disclosure helps those who can read it: together they halve Ponzi owners' takings."""
    both = ("disclosure", "education")
    assert _mean("ponzi_deposit_share", both) < 0.7 * _mean("ponzi_deposit_share", ("education",))
    assert _mean("stolen", both) < 0.6 * _mean("stolen")


def test_losses_count_open_estates_and_gross_adds_back_the_cover():
    """Investor losses after cover = written off + estates' expected shortfall; gross adds
    back what the fund paid, so a fund lowers the first and not the second."""
    sc = wave_scenario(payout_delay_days=5, public_backstop=True, coverage_share=0.5)
    sc.resolution.max_days = 400  # estates still open at the end of the run
    model = P2PModel(sc, check_invariants=True)
    model.run()
    s = model.summary()
    assert s["investor_losses_written_off"] == 0 and s["investor_losses_pending"] > 0
    assert s["investor_losses"] == s["investor_losses_pending"]
    assert s["investor_losses_gross"] == pytest.approx(s["investor_losses"]
                                                       + s["protection_payouts"])
    sc.policies.protection_fund.enabled = False
    no_fund = P2PModel(sc)
    no_fund.run()
    t = no_fund.summary()
    assert s["investor_losses"] < 0.8 * t["investor_losses"]
    assert s["investor_losses_gross"] == pytest.approx(t["investor_losses_gross"], rel=0.25)


def test_investors_with_a_claim_on_a_short_estate_count_as_losing():
    sc = wave_scenario(payout_delay_days=5, public_backstop=True, coverage_share=0.5)
    sc.resolution.max_days = 400  # estates still open, nothing written off yet
    model = P2PModel(sc)
    model.run()
    s = model.summary()
    assert (model.investors.loss > 0).sum() == 0
    victims = np.isin(model.investors.pos_platform, [0, 1, 2, 3]).reshape(
        model.investors.count, -1).any(axis=1)
    assert 0 < s["investors_with_loss"] <= victims.sum()


def _registration_market(loan_terms_days: list[int]):
    """Honest platforms without contagion, half of them in bank custody, 10-day products."""
    sc = calm_scenario(platforms={"count": 12, "product_terms_days": [10], "demand_share": 0.0,
                                  "loan_terms_days": loan_terms_days}, run={"days": 60})
    for channel in ("information", "shared_investors", "common_borrowers", "fire_sales"):
        getattr(sc.channels, channel).enabled = False
    sc.policies.custody.enabled = True
    sc.policies.custody.share = 0.5
    reg = sc.policies.registration
    reg.enabled, reg.start, reg.deadline_days = True, 5, 10
    return P2PModel(sc, check_invariants=True)


def test_registration_winds_down_platforms_that_cannot_file_and_keeps_the_rest():
    """On the deadline, platforms without bank custody stop taking money and close in order."""
    model = _registration_market(loan_terms_days=[10])
    model.run(14)
    assert model.policies.restricts_entry(), "an entry regime from the start"
    assert not model.platforms.winding_down[: model.platforms.n].any()
    model.run(1)  # day 15: the deadline
    plats = model.platforms
    n = plats.n
    refused = plats.winding_down[:n].copy()
    assert refused.any() and (~refused).any()
    assert np.array_equal(refused, ~plats.custody[:n] & plats.operating_mask())
    assert model.summary()["registration_refused"] == int(refused.sum())
    model.run(45)
    assert (plats.status[:n][refused] == Status.CLOSED).all(), \
        "with loans as short as the products, refused platforms pay out and close"
    assert (plats.status[:n][~refused] == Status.ACTIVE).all()


def test_a_refused_platform_with_long_loans_cannot_wind_down_in_order():
    """Maturity mismatch: claims fall due before the loans repay, so the wind-down ends in failure."""
    model = _registration_market(loan_terms_days=[360])
    model.run(15)
    plats = model.platforms
    n = plats.n
    refused = plats.winding_down[:n].copy()
    model.run(45)
    assert (plats.status[:n][refused] == Status.FAILED).sum() > refused.sum() / 2
    assert not (plats.status[:n][refused] == Status.CLOSED).any()


def test_hearsay_weight_follows_the_precision_rule():
    """Disclosure: equally precise sources weigh 1/2 each; a signal with sd cut by r weighs
    (1 - r)^2 / (1 + (1 - r)^2) for the peers' news; only the literate read the signal."""
    from sim.mechanisms.policies.disclosure import hearsay_weight

    assert hearsay_weight(0.0, 0.7) == pytest.approx(1.0)  # no disclosure, no discount
    assert hearsay_weight(1.0, 0.7) == pytest.approx(0.3)  # exact books: the literate ignore it
    assert hearsay_weight(0.8, 1.0) == pytest.approx(2 * 0.04 / 1.04)
    assert hearsay_weight(0.8, 0.4) == pytest.approx(0.6 + 0.4 * 2 * 0.04 / 1.04)


def test_disclosure_damps_failure_news_about_peers():
    """Chen 1999; Acharya and Yorulmazer 2008: investors who can read a platform's own books
    read less into its peers' failures. The same failure sends less news to the same peers,
    in proportion to :func:`hearsay_weight` at the investors' mean literacy."""
    from sim.mechanisms.policies.disclosure import hearsay_weight

    def news_after_a_failure(disclosure: bool) -> tuple[np.ndarray, float]:
        sc = small_scenario(run={"days": 5})
        sc.channels.information.enabled = True
        sc.policies.disclosure.enabled = disclosure
        model = P2PModel(sc, seed=3)  # day 0: the same platforms and rates either way
        model.failures.append({"day": model.day, "platform": 0,
                               "rate": float(model.platforms.rate[0]),
                               "business_model": int(model.platforms.business_model[0])})
        model.channels.start_of_day()
        n = model.platforms.n
        return model.conditions.information_news[:n].copy(), model.investors.trait_means()[0]

    plain, _ = news_after_a_failure(False)
    damped, literacy = news_after_a_failure(True)
    assert plain[1:].max() > 0
    np.testing.assert_allclose(damped, plain * hearsay_weight(0.8, literacy))


def test_disclosure_damps_a_rumour_by_the_hearsay_weight():
    """A rumour changes no fundamental, so investors who can check it against a platform's
    disclosed books weigh it less: its news lands at :func:`hearsay_weight` of its size, while
    without disclosure it lands in full."""
    from sim.mechanisms.policies.disclosure import hearsay_weight

    def news_on_rumour_day(disclosure: bool) -> tuple[np.ndarray, float]:
        sc = small_scenario(run={"days": 5})
        sc.shocks = [ShockConfig(type="rumour", start=1, duration=2, size=2.0)]
        sc.policies.disclosure.enabled = disclosure
        model = P2PModel(sc, seed=3)
        model.step()  # the rumour's first day
        n = model.platforms.n
        return model.conditions.news[:n].copy(), model.investors.trait_means()[0]

    plain, _ = news_on_rumour_day(False)
    damped, literacy = news_on_rumour_day(True)
    np.testing.assert_allclose(plain, 2.0)
    np.testing.assert_allclose(damped, 2.0 * hearsay_weight(0.8, literacy))
    assert damped.max() < 1.5  # about 2/3 at the default literacy
