"""The teaching app without a browser: its model, lessons, sources, network, pictures and command.

The page itself is tested in a real browser (``tests/test_app_browser.py``); everything it shows
is computed here, headless, where it is quick to check exactly.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from sim.app import launch
from sim.app.lessons import LESSONS, lesson
from sim.app.model import SHOCKS_NOW, ClassroomModel, configure, status_counts
from sim.app.network import market_graph, ring_positions, shared_investors
from sim.app.sources import (
    lesson_source,
    scenario_from_text,
    shipped_scenarios,
    shipped_source,
    text_of_upload,
    text_source,
)
from sim.app.svg import nice_ticks
from sim.app.views import RENDER_EVERY_DAYS, charts_svg, network_svg
from sim.config import ScenarioError, load_scenario
from sim.mechanisms.policies import registered_policies
from tests.conftest import run_cli

# A small market: a named platform with on-demand money, a quarter-size balance sheet.
SMALL = """
name = "small"
[run]
days = 30
seed = 4
[platforms]
count = 6
leverage_median = 4.0
share_ponzi = 0.0
share_fraud = 0.0
entry_per_year = 0.0
[[platforms.custom]]
name = "Big"
leverage = 3.6
demand_share = 0.9
cash_buffer_target = 0.01
visibility = 4.0
[investors]
count = 400
[borrowers]
count = 100
"""


def small(**kwargs) -> ClassroomModel:
    return ClassroomModel(SMALL, source="small.toml", **kwargs)


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text)


SVG = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------- the model
def test_the_default_model_is_the_first_lesson():
    model = ClassroomModel()
    assert model.config.name == scenario_from_text(LESSONS[0].toml, "lesson").name
    assert model.twin is None
    assert model.day == 0 and model.running


def test_steps_stop_on_the_last_day():
    model = small()
    for _ in range(model.days + 5):
        model.step()
    assert model.day == model.days
    assert not model.running


def test_dotted_settings_change_the_scenario_and_none_keeps_its_value():
    model = small(**{"platforms.cash_buffer_target": 0.2, "investors.attention_mean": None,
                     "channels.herding.enabled": True})
    base = scenario_from_text(SMALL, "small.toml")
    assert model.config.platforms.cash_buffer_target == 0.2
    assert model.config.investors.attention_mean == base.investors.attention_mean
    assert model.config.channels.herding.enabled


def test_a_bad_setting_gets_a_message_naming_the_field():
    with pytest.raises(ScenarioError, match=r"platforms\.demand_share.*1\.5"):
        small(**{"platforms.demand_share": 1.5})
    with pytest.raises(ScenarioError, match=r"unknown key 'platforms\.nonsense'"):
        small(**{"platforms.nonsense": 1})


def test_the_seed_sets_both_runs_and_the_same_seed_gives_the_same_run():
    a, b = small(seed=9, compare_with="custody"), small(seed=9)
    assert a.market.seed == a.twin.seed == 9
    for _ in range(10):
        a.step()
        b.step()
    pd.testing.assert_frame_equal(a.market.timeseries(), b.market.timeseries())


def test_side_by_side_switches_the_policy_on_only_in_the_twin():
    sc = SMALL + "\n[policies.protection_fund]\nenabled = true\n"
    model = ClassroomModel(sc, compare_with="protection_fund")
    assert not model.config.policies.protection_fund.enabled
    assert model.twin.config.policies.protection_fund.enabled
    labels = [label for label, _ in model.runs()]
    assert labels == ["without protection fund", "with protection fund"]


def test_an_unknown_policy_to_compare_is_refused():
    with pytest.raises(ScenarioError, match="compare_with = 'magic' is not a policy"):
        small(compare_with="magic")


def test_mesa_s_experiment_scenario_passed_on_reset_is_ignored():
    from mesa.experimental.scenarios import Scenario as MesaScenario

    model = small(scenario=MesaScenario(), seed=3)
    assert model.market.seed == 3


def test_a_market_too_big_to_watch_is_refused_with_a_pointer_to_p2psim_run():
    too_big = SMALL.replace("count = 400", "count = 250000")
    with pytest.raises(ScenarioError, match=r"investors\.count = 250,000 is too big.*p2psim run"):
        configure(too_big, "big.toml")


def test_a_scenario_the_model_cannot_set_up_names_the_source():
    bad = SMALL + '\n[[shocks]]\ntype = "rumour"\nstart = 5\nplatform = "Nowhere"\n'
    with pytest.raises(ScenarioError, match=r"^mine\.toml: field 'shocks\.0\.platform'"):
        ClassroomModel(bad, source="mine.toml")


# --------------------------------------------------------------------------- shocks now
def test_shocks_now_start_tomorrow_in_both_runs_and_are_logged():
    model = small(compare_with="custody")
    for _ in range(5):
        model.step()
    text = model.fire("rumour", "Big")
    assert text == "day 5: rumour at Big, from day 6"
    for _, run in model.runs():
        (shock,) = run.shocks.shocks
        assert (shock.cfg.type, shock.cfg.start, shock.cfg.platform) == ("rumour", 6, "Big")
    model.step()
    for _, run in model.runs():
        assert run.conditions.news[run.platform_agents[-1].index] > 0
    assert model.fired == [(5, text)]


def test_a_rumour_without_a_target_hits_the_largest_open_platform():
    model = small()
    largest = model.targets()[0]
    assert "rumour at " + largest in model.fire("rumour")


def test_untargeted_shocks_ignore_a_platform():
    model = small()
    model.fire("liquidity", "Big")
    assert model.market.shocks.shocks[0].cfg.platform is None


def test_a_shock_fired_now_gives_the_run_whose_scenario_lists_it_from_tomorrow():
    live = small()
    for _ in range(8):
        live.step()
    live.fire("rumour", "Big")
    for _ in range(12):
        live.step()
    now = SHOCKS_NOW["rumour"]
    planned = ClassroomModel(SMALL + f"""
[[shocks]]
type = "rumour"
start = 9
duration = {now.duration}
size = {now.size}
platform = "Big"
""")
    for _ in range(20):
        planned.step()
    pd.testing.assert_frame_equal(live.market.timeseries(), planned.market.timeseries())


@pytest.mark.parametrize("key, platform, message", [
    ("meteor", None, "unknown shock 'meteor'"),
    ("rumour", "Nowhere", "no platform called 'Nowhere'"),
])
def test_a_bad_shock_now_is_refused_and_goes_nowhere(key, platform, message):
    model = small(compare_with="custody")
    with pytest.raises(ScenarioError, match=message):
        model.fire(key, platform)
    assert all(not run.shocks.shocks for _, run in model.runs())


def test_no_shock_fires_after_the_last_day():
    model = small()
    for _ in range(model.days):
        model.step()
    with pytest.raises(ScenarioError, match="press reset"):
        model.fire("rate")


def test_fraud_now_makes_the_largest_platform_abscond_tomorrow():
    model = small()
    model.step()
    model.fire("fraud")
    before = status_counts(model.market)
    model.step()
    after = status_counts(model.market)
    assert after["absconded"] == before["absconded"] + 1


# --------------------------------------------------------------------------- lessons
@pytest.mark.parametrize("item", LESSONS, ids=lambda x: x.key)
def test_every_lesson_is_a_valid_classroom_scenario(item):
    scenario = scenario_from_text(item.toml, item.key)
    platforms = scenario.platforms.count + len(scenario.platforms.custom)
    assert 15 <= platforms <= 30 and 2_000 <= scenario.investors.count <= 10_000
    assert item.steps and item.look_for
    assert item.compare_with == "none" or item.compare_with in registered_policies()
    source = lesson_source(item)
    assert source.label == f"Lesson: {item.title}"
    ClassroomModel(source.toml, source=source.name, compare_with=source.compare_with)


def test_lessons_are_found_by_key():
    assert lesson("ponzi").title == "A Ponzi scheme collapsing"
    with pytest.raises(KeyError, match="no lesson 'nope'"):
        lesson("nope")


def test_the_bank_run_lesson_shows_a_run_that_the_guarantee_fund_prevents():
    """The two lessons' stories: a rumour topples Huijin (cause 'run'); full cover stops it.

    A lesson is only worth showing if its mechanism shows: if a recalibration of the model
    breaks this, retune the lesson's market (sim/app/lessons.py), not the test.
    """
    model = ClassroomModel(lesson("guarantee_fund").toml, compare_with="protection_fund")
    for _ in range(30):
        model.step()
    model.fire("rumour", "Huijin")
    for _ in range(30):
        model.step()

    def cause(run):
        table = run.cascade_table()
        hit = table[table["name"] == "Huijin"]
        return None if hit.empty else hit["cause"].iloc[0]

    assert cause(model.market) == "run"
    assert cause(model.twin) is None


# --------------------------------------------------------------------------- speed
@pytest.mark.slow
def test_a_classroom_market_steps_well_over_ten_days_a_second():
    """The README's app speed: both runs side by side, drawn as often as the page draws them."""
    render_every = RENDER_EVERY_DAYS
    model = ClassroomModel(lesson("guarantee_fund").toml, compare_with="protection_fund")
    model.step()
    start = time.perf_counter()
    days = 60
    for day in range(days):
        model.step()
        if day % render_every == 0:
            network_svg(model)
            charts_svg(model)
    rate = days / (time.perf_counter() - start)
    print(f"\napp step rate (headless, 21 platforms x 5,000 investors, side by side, both "
          f"pictures every {render_every} days): {rate:.0f} days/s")
    assert rate > 10


# --------------------------------------------------------------------------- sources
def test_pasted_text_gets_the_message_a_scenario_file_gets(tmp_path):
    bad = 'name = "x"\n[platforms]\ncount = -3\n'
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    with pytest.raises(ScenarioError) as from_file:
        load_scenario(path)
    with pytest.raises(ScenarioError) as from_text:
        text_source(bad, "pasted text")
    assert str(from_text.value) == str(from_file.value).replace(str(path), "pasted text")


@pytest.mark.parametrize("text, message", [
    ("   ", "the file is empty"),
    ("name = ", "not valid TOML"),
    ("x" * 300_000, "too long"),
])
def test_bad_text_is_refused_like_a_bad_file(text, message):
    with pytest.raises(ScenarioError, match=f"^up.toml: .*{message}"):
        scenario_from_text(text, "up.toml")


def test_an_upload_that_is_not_text_is_refused():
    with pytest.raises(ScenarioError, match="not a text file"):
        text_of_upload(b"\xff\xfe\x00binary", "photo.toml")
    assert text_of_upload(SMALL.encode(), "small.toml") == SMALL


def test_shipped_scenarios_are_opened_by_name_only():
    shipped = shipped_scenarios()
    assert "liquidity_run" in shipped
    source = shipped_source("liquidity_run", shipped)
    assert source.name == "liquidity_run.toml" and "run" in source.summary.lower()
    for name in ("../pyproject", "/etc/passwd", "scenarios/baseline.toml"):
        with pytest.raises(ScenarioError, match="no shipped scenario called"):
            shipped_source(name, shipped)


def test_without_the_project_folder_no_scenario_is_shipped(tmp_path):
    assert shipped_scenarios(tmp_path / "nowhere") == {}


# --------------------------------------------------------------------------- network
def test_shared_investors_count_each_investor_once_per_pair():
    model = small()
    market = model.market
    inv = market.investors
    counts = shared_investors(market)
    held = np.where(inv.pos_principal > 0, inv.pos_platform, -1).reshape(inv.count, inv.slots)
    n = market.platforms.n
    expected = np.zeros((n, n), dtype=int)
    for row in held:
        platforms = sorted({int(p) for p in row if p >= 0})
        for a in platforms:
            for b in platforms:
                if a != b:
                    expected[a, b] += 1
    np.testing.assert_array_equal(counts, expected)


def test_day0_platforms_sit_on_a_ring_by_rate_and_entrants_inside():
    xy = ring_positions(np.array([0.12, 0.08, 0.10]), n=5)
    radius = np.hypot(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(radius[:3], 1.0)
    assert (radius[3:] < 1.0).all()
    np.testing.assert_allclose(xy[1], [0.0, 1.0], atol=1e-12)  # the lowest rate at the top


def test_cascade_arrows_join_each_contagion_failure_to_the_one_before():
    model = ClassroomModel(lesson("shared_investors").toml)
    for _ in range(20):
        model.step()
    model.fire("fraud")
    for _ in range(40):
        model.step()
    graph = market_graph(model.market, model.day0_rates[0])
    table = model.market.cascade_table()
    linked = table[table["parent"] >= 0]
    assert graph.arrows == list(zip(linked["parent"], linked["platform"], linked["channel"],
                                    strict=True))
    failed = table["platform"].to_numpy()
    np.testing.assert_array_equal(graph.failed_day[failed], table["day"].to_numpy())


# --------------------------------------------------------------------------- pictures
def test_the_network_is_valid_svg_with_one_node_per_platform_coloured_by_status():
    model = small()
    model.step()
    model.fire("fraud")
    model.step()
    root = svg_root(network_svg(model))
    nodes = root.findall(f"{SVG}circle[@data-name]")
    assert len(nodes) == model.market.platforms.n
    classes = [n.get("class") for n in nodes]
    assert classes.count("node status-absconded") == 1


def test_side_by_side_draws_both_networks():
    root = svg_root(network_svg(small(compare_with="custody")))
    titles = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.startswith("Day 0")]
    assert titles == ["Day 0: without custody", "Day 0: with custody"]


def test_names_from_an_upload_cannot_inject_markup():
    sneaky = SMALL.replace('name = "Big"', 'name = "<script>alert(1)</script>"')
    model = ClassroomModel(sneaky)
    picture = network_svg(model)
    assert "<script>" not in picture
    svg_root(picture)  # still well-formed


def test_the_charts_are_valid_svg_and_change_as_the_run_goes_on():
    model = small()
    before = charts_svg(model)
    svg_root(before)
    for _ in range(5):
        model.step()
    model.fire("liquidity")
    model.step()
    after = charts_svg(model)
    assert after != before
    root = svg_root(after)
    assert root.findall(f".//{SVG}rect[@class='shock']")
    assert root.findall(f".//{SVG}polyline[@class='series-payouts']")


def test_ticks_cover_the_data_with_round_numbers():
    np.testing.assert_allclose(nice_ticks(0, 21), [0, 6, 12, 18, 24])
    np.testing.assert_allclose(nice_ticks(0, 0.78), [0, 0.2, 0.4, 0.6, 0.8])
    assert len(nice_ticks(0, 0)) >= 2


# --------------------------------------------------------------------------- the command
def test_the_server_listens_on_localhost_unless_told_otherwise():
    command = launch.command()
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--production" in command
    assert launch.url("127.0.0.1", 8765) == "http://localhost:8765"


def test_the_server_gets_the_scenario_as_text_and_telemetry_off():
    env = launch.environment("name = 'x'", "x.toml", base={})
    assert env[launch.ENV_TOML] == "name = 'x'" and env[launch.ENV_NAME] == "x.toml"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_app_with_a_bad_scenario_prints_the_run_message_and_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n[investors]\ncount = -1\n')
    code, _, err = run_cli(["app", str(path)], capsys)
    run_code, _, run_err = run_cli(["run", str(path)], capsys)
    assert code == run_code == 2
    assert err == run_err and err.startswith("error: ")


def test_app_without_the_extra_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(launch, "missing_extra", lambda: "the app needs the 'app' extra")
    code, _, err = run_cli(["app"], capsys)
    assert code == 2 and "the app needs the 'app' extra" in err


def test_the_app_extra_is_installed_here():
    assert launch.missing_extra() is None


# --------------------------------------------------------------------------- SolaraViz
@pytest.mark.slow  # importing solara takes seconds
def test_solaraviz_rebuilds_the_model_from_the_page_s_parameters():
    """What SolaraViz's reset does: ``type(model)(**params)``, with its own scenario added."""
    pytest.importorskip("solara")
    from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

    from sim.app import page

    source = lesson_source(lesson("guarantee_fund"))
    params = page.model_params(source, scenario_from_text(source.toml, source.name))
    model = ClassroomModel(**page.initial_values(params))
    assert model.twin is not None
    _check_model_params(model, params)
    changed = {**page.initial_values(params), "platforms.cash_buffer_target": 0.2, "seed": 5,
               "compare_with": "none", "policies.custody.enabled": True}
    kwargs = _build_model_init_kwargs(model, changed, add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    rebuilt = type(model)(**kwargs)
    assert rebuilt.twin is None and rebuilt.market.seed == 5
    assert rebuilt.config.platforms.cash_buffer_target == 0.2
    assert rebuilt.config.policies.custody.enabled


@pytest.mark.slow  # importing solara takes seconds
def test_every_control_starts_at_the_scenario_s_value():
    pytest.importorskip("solara")
    from sim.app import page

    source = shipped_source("panic_run", shipped_scenarios())
    scenario = scenario_from_text(source.toml, source.name)
    values = page.initial_values(page.model_params(source, scenario))
    assert values["seed"] == scenario.run.seed
    assert values["platforms.demand_share"] == scenario.platforms.demand_share
    assert values["channels.herding.enabled"] == scenario.channels.herding.enabled
    assert set(registered_policies()) <= {k.split(".")[1] for k in values
                                          if k.startswith("policies.")}
