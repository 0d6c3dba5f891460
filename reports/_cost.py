"""The report's cost section: tokens in / out per role and model, and dollars under the run's ``[pricing]``.

Reads ``tables/cost`` (``theraeval leaderboard``, from ``<run>/usage.parquet``: the providers' token counts in the
logs). A model without a price shows "no price", never $0. Model names are config text: escaped like any other.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.inputs import format_usd
from reports._data import RunData
from reports._escape import Safe
from reports._html import el
from reports._sections import _td, _th, scroll

__all__ = ["cost_section"]


def _cost_table(data: RunData) -> pd.DataFrame:
    path = data.run_dir / "tables" / "cost.parquet"
    return data.table("cost") if data.has("cost") else pd.read_parquet(path) if path.is_file() else pd.DataFrame()


def cost_section(data: RunData) -> Safe:
    cost = _cost_table(data)
    if cost.empty:
        return el("section", el("h2", "Cost"),
                  el("p", "No token counts in this run (reward-head judge and imported responses make no model calls, "
                     "or the tables predate cost accounting: re-run theraeval verdicts and leaderboard).",
                     class_="empty"), id="cost")
    head = el("thead", el("tr", _th("role", "text"), _th("model", "text"), _th("input tokens", "num"),
                          _th("output tokens", "num"), _th("mode", "text"), _th("USD", "num")))
    rows = [el("tr", el("th", str(r.role), scope="row", data_v=str(r.role)), _td(str(r.model)),
               _td(f"{int(r.input_tokens):,}", int(r.input_tokens), class_="num"),
               _td(f"{int(r.output_tokens):,}", int(r.output_tokens), class_="num"),
               _td("batch" if r.batch else "online"),
               _td(format_usd(float(r.cost_usd)), None if math.isnan(r.cost_usd) else float(r.cost_usd), class_="num"))
            for r in cost.itertuples(index=False)]
    priced = cost["cost_usd"].dropna()
    total = (f"Total: {int(cost['input_tokens'].sum()):,} input and {int(cost['output_tokens'].sum()):,} output "
             f"tokens; {format_usd(float(priced.sum())) if len(priced) else 'no price'}"
             + ("" if len(priced) == len(cost) else f" for the {len(priced)} priced of {len(cost)} rows") + ".")
    lede = ("Token counts are the providers' own, recorded by inspect in the run's logs; a call answered from the "
            "run's cache is not sent and costs nothing. Dollars come from the config's [pricing] table (USD per "
            "million tokens, the batch discount for roles run with batch = true).")
    return el("section", el("h2", "Cost"), el("p", lede, class_="lede"),
              scroll(el("table", head, el("tbody", rows), class_="sortable", id="cost-table")), el("p", total),
              id="cost")
