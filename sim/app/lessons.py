"""Classroom presets: four small markets, each set up to show one idea, with what to do and see.

Every lesson is a scenario at classroom size (about 20 platforms and 5,000 investors, so the
app steps well above 10 days a second) written as TOML text, validated like a scenario file when
it is loaded. Balance sheets are scaled to the smaller market: about 250 investors per platform
instead of the default 1,000, so registered capital, fixed costs and the cash worth absconding
with are a quarter of the defaults.

The texts say what to look for, not what number comes out: the model is recalibrated from time
to time, and a lesson stays true as long as the mechanism it shows is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# A calm classroom market: honest owners only, no entrants, well-capitalised platforms.
CLASSROOM_MARKET = """
[run]
days = 365
seed = {seed}

[platforms]
count = 20
leverage_median = 4.0       # claims / capital: a calm, well-capitalised market
share_ponzi = 0.0
share_fraud = 0.0
entry_per_year = 0.0
{platforms}
[investors]
count = 5000
liquidity_need_per_year = 3.0   # ordinary redemptions per demand position per year
{investors}
[borrowers]
count = 1000
"""

# A solvent platform that funds long loans with on-demand money and keeps almost no cash.
HUIJIN = """
[[platforms.custom]]
name = "Huijin"
leverage = 5.0              # claims / capital: well capitalised
owner = "honest"
promised_rate = 0.11        # annual
demand_share = 0.9          # share of products redeemable on demand
cash_buffer_target = 0.01   # share of claims kept in cash
screening = 0.9             # a sound loan book
visibility = 6.0            # a big brand
"""


@dataclass(frozen=True)
class Lesson:
    """One classroom preset.

    Attributes:
        key: a short identifier.
        title: the name shown in the app.
        summary: one sentence on what it shows.
        toml: the scenario, as TOML text.
        compare_with: the policy run side by side (``"none"`` for a single run).
        steps: what to do, in order.
        look_for: what to see.
    """

    key: str
    title: str
    summary: str
    toml: str
    compare_with: str = "none"
    steps: tuple[str, ...] = field(default_factory=tuple)
    look_for: tuple[str, ...] = field(default_factory=tuple)


def _scenario(name: str, description: str, seed: int, platforms: str = "",
              investors: str = "", rest: str = "") -> str:
    head = f'name = "{name}"\ndescription = "{description}"\n'
    return head + CLASSROOM_MARKET.format(seed=seed, platforms=platforms,
                                          investors=investors) + rest


BANK_RUN = Lesson(
    key="bank_run",
    title="A bank run in one platform",
    summary="A solvent platform that keeps almost no cash fails when a groundless rumour makes "
            "its investors ask for their money at once (Diamond and Dybvig).",
    toml=_scenario("lesson_bank_run", "A solvent, illiquid platform and a rumour.", seed=1,
                   rest=HUIJIN),
    steps=("Press play and let a month or two pass: nothing happens, Huijin is big and sound.",
           "In 'Shock now', choose Huijin and press RUMOUR.",
           "Then raise the cash buffer or lower the demand share (both act on the other "
           "platforms; Huijin keeps its own), press RESET and try again."),
    look_for=("Payouts jump above deposits within days of the rumour, and the unpaid backlog "
              "appears.",
              "Huijin turns amber (distressed), then red (failed), although nothing was wrong "
              "with its loans: the cause in the cascade is 'run'.",
              "Without the rumour it never fails: the run is self-fulfilling."),
)

SHARED_INVESTORS = Lesson(
    key="shared_investors",
    title="Contagion through shared investors",
    summary="An owner absconds; its investors lose money, grow fearful and pull out of every "
            "other platform they hold, and thin platforms fail one after another.",
    toml=_scenario(
        "lesson_shared_investors", "A fraud spreads through investors who hold several "
        "platforms.", seed=2,
        platforms="cash_buffer_target = 0.03\ndemand_share = 0.6\n",
        investors="max_holdings = 4          # platforms one investor can hold at once\n"
                  "consideration_set = 8\n",
        rest="""
# Only the shared-investor channel carries contagion here.
[channels.information]
enabled = false
[channels.fire_sales]
enabled = false
[channels.common_borrowers]
enabled = false
[channels.shared_investors]
enabled = true
strength = 0.4      # fear (annual failure probability) a loss or delay adds everywhere
"""),
    steps=("Press play for about a month.",
           "Press FRAUD AT THE LARGEST: its owner runs off with the cash.",
           "Watch, then untick 'channel: shared investors', press RESET and repeat."),
    look_for=("The thick grey lines join platforms that share many investors; the arrows "
              "(teal: shared investors) show which failure each one followed.",
              "With the channel on, runs jump along the thick lines within weeks; with it off, "
              "the fraud stays alone.",
              "A bigger cash buffer stops the chain earlier."),
)

GUARANTEE_FUND = Lesson(
    key="guarantee_fund",
    title="What a guarantee fund does",
    summary="The bank-run market twice, with the same seed: on the right a protection fund "
            "backed by the government covers every claim, so nobody needs to run.",
    toml=_scenario("lesson_guarantee_fund", "The bank run, with and without full backed cover.",
                   seed=1, rest=HUIJIN + """
# Off in the scenario; the app switches it on in the right-hand run.
[policies.protection_fund]
enabled = false
coverage_share = 1.0        # share of a claim covered
coverage_cap = 1e7          # yuan per position: no cap in practice
public_backstop = true      # the government tops the fund up
"""),
    compare_with="protection_fund",
    steps=("Press play for a month or two.",
           "Choose Huijin in 'Shock now' and press RUMOUR: both runs get the same rumour.",
           "Compare the left (no fund) and right (full backed cover) networks and the dashed "
           "lines in the charts."),
    look_for=("On the left, Huijin fails in a run; on the right the same rumour passes.",
              "Investors who expect to be paid in full have no reason to run: the fund pays "
              "little or nothing because the run never starts.",
              "The fund is paid for by a levy on every platform: look at the promised rates."),
)

PONZI = Lesson(
    key="ponzi",
    title="A Ponzi scheme collapsing",
    summary="Xinhe promises 15% a year and pays old investors with new money; it looks healthy "
            "while money flows in and collapses when it stops.",
    toml=_scenario("lesson_ponzi", "A high-rate Ponzi platform among honest ones.", seed=1,
                   rest="""
[[platforms.custom]]
name = "Xinhe"
owner = "ponzi"             # fake loans; old investors are paid from new deposits
leverage = 16.0             # claims / capital: thin
promised_rate = 0.15        # annual: well above the market
demand_share = 0.6          # share of products redeemable on demand
cash_buffer_target = 0.03   # share of claims kept in cash
visibility = 3.0
"""),
    steps=("Press play: Xinhe's node grows as investors chase its rate.",
           "After a few months choose Xinhe and press RUMOUR.",
           "Press RESET, tick 'policy: disclosure' (fake loans come into view) and repeat."),
    look_for=("Xinhe's cash is thin and its loans are partly fake, so once new money stops it "
              "cannot pay: the cause in the cascade is 'insolvency', not 'run'.",
              "Investor losses jump when it fails, far more than in an honest run.",
              "With disclosure, fewer investors put money into Xinhe in the first place."),
)

LESSONS: tuple[Lesson, ...] = (BANK_RUN, SHARED_INVESTORS, GUARANTEE_FUND, PONZI)


def lesson(key: str) -> Lesson:
    """The lesson called ``key``.

    Raises:
        KeyError: no lesson has that key.
    """
    for item in LESSONS:
        if item.key == key:
            return item
    raise KeyError(f"no lesson {key!r}; lessons: {', '.join(x.key for x in LESSONS)}")
