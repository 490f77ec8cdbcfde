#!/usr/bin/python3
"""tests/analyst/data/make_tickets.py — writes tickets.csv next to itself: a
support-ticket log generated to mimic a help-desk export (fixed seed, so the
file is reproducible): opened_at with times of day, priority and tier as
bare letter codes (A/B/C, A-D), team, resolution_hours, cost, satisfaction
(1-5).  It covers requests the real datasets cannot: filters by a one-letter
code ("average cost for tier A") and grouping by weekday / hour / month of
the year."""
import os

import numpy as np
import pandas as pd

rng = np.random.default_rng(15)
n = 420
opened = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="m")
priority = rng.choice(["A", "B", "C"], n, p=[0.2, 0.5, 0.3])
tier = rng.choice(["A", "B", "C", "D"], n)
team = rng.choice(["Network", "Billing", "Accounts"], n)
hours = np.round(rng.gamma(2.0, 6.0, n) * np.where(priority == "A", 0.5, 1.0), 2)
cost = np.round(20 + hours * 3.5 + rng.normal(0, 8, n), 2)
sat = np.clip(np.round(5 - hours / 12 + rng.normal(0, 0.8, n)), 1, 5).astype(int)
df = pd.DataFrame({"ticket_id": np.arange(5001, 5001 + n), "opened_at": opened.strftime("%Y-%m-%d %H:%M"),
                   "priority": priority, "tier": tier, "team": team, "resolution_hours": hours,
                   "cost": cost, "satisfaction": sat}).sort_values("opened_at")
df.to_csv(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tickets.csv"), index=False)
