"""The Solara page: Mesa's SolaraViz around a :class:`~sim.app.model.ClassroomModel`.

SolaraViz supplies the sidebar's controls (reset, play/pause, step, the play and render
intervals) and the model parameters (seed, sliders, channel and policy switches, the policy run
side by side), and rebuilds the model from them on reset. The page hands SolaraViz the model as
a reactive variable and no panels of its own, and lays out the main area itself
(:func:`Dashboard`): the platforms' status counts, the network view, the live charts, the
"shock now" buttons and the lesson's notes, side by side when a policy is compared. The sidebar
also gets the chooser of lesson or scenario.

Choosing a lesson or scenario, or loading pasted or uploaded TOML, builds a fresh SolaraViz
whose sliders start at that scenario's values. Nothing here opens a path: shipped scenarios are
chosen by name from the list made when the app starts (:mod:`sim.app.sources`).

Run it with ``p2psim app`` (or ``solara run sim.app.page``).
"""

from __future__ import annotations

import html
import os

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.app import launch, lessons
from sim.app.model import SHOCKS_NOW, ClassroomModel, status_counts
from sim.app.sources import (
    NO_COMPARISON,
    Source,
    lesson_source,
    scenario_from_text,
    shipped_scenarios,
    shipped_source,
    text_of_upload,
    text_source,
)
from sim.app.views import RENDER_EVERY_DAYS, charts_svg, network_svg
from sim.config import Scenario, ScenarioError
from sim.mechanisms.policies import registered_policies
from sim.vocabulary import Channel

TITLE = "p2psim classroom"
PLAY_INTERVAL_MS = 20  # pause between rendered frames while playing
SHIPPED = shipped_scenarios()  # name -> file, listed once: the page never takes a path

# Sliders: dotted scenario key -> (label, lowest, highest, step). Labels are short: SolaraViz
# puts them beside the slider in a narrow sidebar.
SLIDERS: dict[str, tuple[str, float, float, float]] = {
    "platforms.cash_buffer_target": ("Cash buffer", 0.0, 0.3, 0.01),
    "platforms.demand_share": ("Demand share", 0.0, 1.0, 0.05),
    "investors.delay_fear": ("Fear of delays", 0.0, 2.0, 0.05),
    "investors.panic_redemption": ("Panic", 0.0, 1.0, 0.05),
    "investors.attention_mean": ("Attention", 0.05, 0.95, 0.05),
}
# What the controls mean, shown under the lesson.
CONTROLS_HELP = (
    "Cash buffer: share of claims a platform keeps in cash (named platforms keep their own).",
    "Demand share: share of products investors can redeem any day.",
    "Fear of delays: how much a late payment frightens an investor.",
    "Panic: daily chance that a frightened investor redeems early.",
    "Attention: how closely investors follow the news.",
    "Channels carry contagion between platforms; policies are the regulator's levers.",
)


def _initial_source() -> Source:
    """The scenario ``p2psim app`` was given (as text in the environment), or the first lesson."""
    text = os.environ.get(launch.ENV_TOML, "")
    if text.strip():
        name = os.environ.get(launch.ENV_NAME, "scenario")
        try:
            return text_source(text, name)
        except ScenarioError:
            pass  # the command line validated it; if not, open the first lesson
    return lesson_source(lessons.LESSONS[0])


current = solara.reactive(_initial_source())  # per browser session
generation = solara.reactive(0)  # a new SolaraViz (and model) for every source opened


def _field(scenario: Scenario, dotted: str):
    node = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def model_params(source: Source, scenario: Scenario) -> dict:
    """SolaraViz's ``model_params``: fixed source text, then the controls a teacher varies.

    Every control starts at the scenario's own value; the keys are
    :class:`~sim.app.model.ClassroomModel`'s keyword parameters (dotted scenario fields).
    """
    seed = scenario.run.seed
    params: dict = {
        "scenario_toml": source.toml,
        "source": source.name,
        "seed": {"type": "SliderInt", "label": "Seed",
                 "value": seed, "min": 0, "max": max(99, seed), "step": 1},
        "compare_with": {"type": "Select", "label": "Side by side with policy",
                         "value": source.compare_with,
                         "values": [NO_COMPARISON, *registered_policies()]},
    }
    for key, (label, low, high, step) in SLIDERS.items():
        value = float(_field(scenario, key))
        params[key] = {"type": "SliderFloat", "label": label, "value": value,
                       "min": min(low, value), "max": max(high, value), "step": step}
    for channel in Channel:
        params[f"channels.{channel}.enabled"] = {
            "type": "Checkbox", "label": f"channel: {channel.replace('_', ' ')}",
            "value": bool(getattr(scenario.channels, channel).enabled)}
    for name in registered_policies():
        params[f"policies.{name}.enabled"] = {
            "type": "Checkbox", "label": f"policy: {name.replace('_', ' ')}",
            "value": bool(getattr(scenario.policies, name).enabled)}
    return params


def initial_values(params: dict) -> dict:
    """The keyword arguments SolaraViz builds the model with before any control is touched."""
    return {k: (v["value"] if isinstance(v, dict) and "type" in v else v)
            for k, v in params.items()}


# ----------------------------------------------------------------------------- panels
def _status_line(label: str, run) -> str:
    counts = status_counts(run)
    shown = " · ".join(f"{name} {n}" for name, n in counts.items())
    return (f"{label}: " if label else "") + shown


@solara.component
def MarketView(model: ClassroomModel):
    """The status counts and the network of platforms."""
    update_counter.get()
    with model.lock:
        lines = [_status_line(label, run) for label, run in model.runs()]
        picture = network_svg(model)
    with solara.Column(gap="4px"):
        solara.Text(f"Day {model.day} of {model.days}", classes=["p2p-day"],
                    style={"font-weight": "500", "font-size": "16px"})
        for line in lines:
            solara.Text(line, classes=["p2p-status"], style={"font-size": "14px"})
        solara.HTML(tag="div", unsafe_innerHTML=picture, classes=["p2p-network"],
                    style="width: 100%")


@solara.component
def ChartsView(model: ClassroomModel):
    """The live charts."""
    update_counter.get()
    with model.lock:
        picture = charts_svg(model)
    solara.HTML(tag="div", unsafe_innerHTML=picture, classes=["p2p-charts"], style="width: 100%")


@solara.component
def ShockPanel(model: ClassroomModel):
    """Buttons that fire a shock now (from tomorrow), with the rumour's target and a log."""
    update_counter.get()
    chosen, set_chosen = solara.use_state(None)
    problem, set_problem = solara.use_state("")
    with model.lock:
        targets = model.targets()
    target = chosen if chosen in targets else (targets[0] if targets else None)

    def fire(key: str) -> None:
        try:
            with model.lock:
                model.fire(key, target)
            set_problem("")
        except ScenarioError as err:
            set_problem(f"error: {err}")
        force_update()

    with solara.Column(gap="6px"):
        solara.Text("Shock now: it hits from tomorrow, in every run shown",
                    style={"font-weight": "500", "font-size": "16px"})
        solara.Select("Rumour about (largest first)", values=targets, value=target,
                      on_value=set_chosen, classes=["p2p-rumour-target"])
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            for now in SHOCKS_NOW.values():
                solara.Button(now.label, on_click=lambda key=now.key: fire(key),
                              color="error" if now.key == "fraud" else "warning",
                              classes=[f"p2p-shock-{now.key}"])
        items = "".join(f"<li><b>{html.escape(now.label)}</b>: {html.escape(now.explains)}</li>"
                        for now in SHOCKS_NOW.values())
        solara.HTML(tag="ul", unsafe_innerHTML=items, style="font-size: 13px; margin: 0")
        if problem:
            solara.Error(problem)
        for _, text in model.fired[-6:]:
            solara.Text(f"Fired {text}", classes=["p2p-fired"], style={"font-size": "13px"})


def _list(title: str, items) -> str:
    if not items:
        return ""
    body = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return f"<p style='margin:6px 0 2px'><b>{html.escape(title)}</b></p><ol>{body}</ol>"


@solara.component
def LessonPanel(model: ClassroomModel):
    """What is open, what to do and what to look for."""
    update_counter.get()
    source = current.value
    parts = [f"<p style='margin:0 0 4px;font-size:16px'><b>{html.escape(source.label)}</b></p>"]
    if source.summary:
        parts.append(f"<p style='margin:0 0 4px'>{html.escape(source.summary)}</p>")
    parts.append(_list("What to do", source.steps))
    parts.append(_list("What to look for", source.look_for))
    parts.append(_list("The controls on the left (they apply when you press RESET)",
                       CONTROLS_HELP))
    parts.append("<p style='margin:6px 0 0;color:#555'>The same seed gives the same run. Side by "
                 "side runs the same seed with the chosen policy on. Hover over a platform to see "
                 "its claims.</p>")
    solara.HTML(tag="div", unsafe_innerHTML="".join(parts), classes=["p2p-lesson"],
                style="font-size: 14px")


# ----------------------------------------------------------------------------- choosing
def _open(source: Source) -> str:
    """Open ``source`` if a model can be built from it; else the message to show."""
    try:
        ClassroomModel(source.toml, source=source.name, compare_with=source.compare_with)
    except ScenarioError as err:
        return f"error: {err}"
    current.set(source)
    generation.set(generation.value + 1)
    return ""


@solara.component
def SourcePanel():
    """Open a lesson, a shipped scenario by name, or pasted or uploaded TOML text."""
    titles = {item.title: item for item in lessons.LESSONS}
    lesson_title, set_lesson_title = solara.use_state(lessons.LESSONS[0].title)
    shipped_name, set_shipped_name = solara.use_state(next(iter(SHIPPED), None))
    pasted, set_pasted = solara.use_state("")
    message, set_message = solara.use_state("")

    def open_lesson() -> None:
        set_message(_open(lesson_source(titles[lesson_title])))

    def open_shipped() -> None:
        try:
            source = shipped_source(shipped_name, SHIPPED)
        except ScenarioError as err:
            set_message(f"error: {err}")
            return
        set_message(_open(source))

    def open_pasted() -> None:
        try:
            source = text_source(pasted, "pasted text")
        except ScenarioError as err:
            set_message(f"error: {err}")
            return
        set_message(_open(source))

    def open_upload(info) -> None:
        name = os.path.basename(str(info["name"])) or "uploaded file"
        try:
            source = text_source(text_of_upload(info["data"] or b"", name), name)
        except ScenarioError as err:
            set_message(f"error: {err}")
            return
        set_message(_open(source))

    with solara.Card("Lesson"):
        solara.Select("Lesson", values=list(titles), value=lesson_title,
                      on_value=set_lesson_title)
        solara.Button("Open lesson", on_click=open_lesson, color="primary", outlined=True,
                      classes=["p2p-open-lesson"])
        with solara.Details("Other scenarios: shipped, pasted or uploaded"):
            if SHIPPED:
                solara.Select("Shipped scenario", values=list(SHIPPED), value=shipped_name,
                              on_value=set_shipped_name)
                solara.Button("Open scenario", on_click=open_shipped, color="primary",
                              outlined=True, classes=["p2p-open-shipped"])
            solara.InputTextArea("Or paste a scenario (TOML)", value=pasted,
                                 on_value=set_pasted, continuous_update=True, rows=3)
            solara.Button("Load pasted text", on_click=open_pasted, color="primary",
                          outlined=True, classes=["p2p-open-pasted"])
            solara.FileDrop(label="Or drop a .toml file here", on_file=open_upload, lazy=False)
        if message:
            solara.Error(message, classes=["p2p-source-error"])


# ----------------------------------------------------------------------------- the page
@solara.component
def Dashboard(model: ClassroomModel):
    """The main area: the network and the charts, then the shock buttons and the lesson."""
    update_counter.get()
    if model.twin is None:
        with solara.Columns([5, 7]):
            MarketView(model)
            ChartsView(model)
        with solara.Columns([6, 6]):
            ShockPanel(model)
            LessonPanel(model)
    else:
        MarketView(model)
        with solara.Columns([7, 5]):
            ChartsView(model)
            with solara.Column():
                ShockPanel(model)
                LessonPanel(model)


@solara.component
def Page():
    """The app: the chooser in the sidebar, SolaraViz's controls, and the dashboard."""
    source = current.value
    params = solara.use_memo(
        lambda: model_params(source, scenario_from_text(source.toml, source.name)), [source])
    model = solara.use_memo(lambda: solara.reactive(ClassroomModel(**initial_values(params))),
                            [generation.value, source])
    with solara.Sidebar():
        SourcePanel()
    SolaraViz(model, model_params=params, name=f"{TITLE}: {source.label}",
              play_interval=PLAY_INTERVAL_MS,
              render_interval=RENDER_EVERY_DAYS).key(f"viz-{generation.value}")
    Dashboard(model.value)
