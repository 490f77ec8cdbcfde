#!/usr/bin/python3
"""examples/make_examples.py — generates the sample datasets in examples/.

Deterministic (fixed seeds, numpy's legacy RandomState, which never changes
its streams), run once; the CSVs it writes are committed so the quick start
and the tests need nothing but this folder:

  sales.csv      2000 orders 2022-2024: order_id, order_date, region, product,
                 category, units, unit_price, revenue, customer_id, discount
  customers.csv  400 subscription customers (churn-style): customer_id,
                 signup_date, plan, monthly_fee, tenure_months,
                 support_tickets, age, churned (yes/no)
  weather.csv    daily weather of 2023 for two cities: date, city, temp_c,
                 precipitation_mm, humidity_pct, wind_kmh

Usage: /usr/bin/python3 examples/make_examples.py [OUTDIR]
"""
import os
import sys

import numpy as np
import pandas as pd

PRODUCTS = [  # product, category, base unit price
    ("Laptop", "Electronics", 899.0), ("Monitor", "Electronics", 229.0),
    ("Headphones", "Electronics", 79.0), ("Keyboard", "Electronics", 49.0),
    ("Desk", "Furniture", 349.0), ("Chair", "Furniture", 189.0),
    ("Bookshelf", "Furniture", 129.0), ("Lamp", "Furniture", 39.0),
    ("Notebook", "Office Supplies", 4.5), ("Pen Set", "Office Supplies", 12.0),
    ("Stapler", "Office Supplies", 15.0), ("Printer Paper", "Office Supplies", 24.0),
]
REGIONS = ["North", "South", "East", "West"]


def make_customers(rng):
    """400 customers with a churn flag that depends on tickets, tenure, plan."""
    n = 400
    ids = [f"C{i:04d}" for i in range(1, n + 1)]
    start = np.datetime64("2020-01-01")
    signup = start + rng.randint(0, 365 * 4 + 300, size=n).astype("timedelta64[D]")
    plans = rng.choice(["Basic", "Standard", "Premium"], size=n, p=[0.45, 0.35, 0.2])
    fee_base = {"Basic": 19.0, "Standard": 39.0, "Premium": 79.0}
    fee = np.array([fee_base[p] for p in plans]) + rng.choice([0.0, 5.0, 10.0], size=n)
    end = np.datetime64("2024-12-31")
    tenure = np.maximum(1, ((end - signup).astype(int) // 30) - rng.randint(0, 12, size=n))
    tickets = rng.poisson(2.0, size=n) + (plans == "Basic") * rng.poisson(1.0, size=n)
    age = np.clip(rng.normal(41, 12, size=n).round(), 18, 80).astype(int)
    logit = -1.2 + 0.45 * tickets - 0.04 * tenure + 0.6 * (plans == "Basic")
    churn = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({
        "customer_id": ids,
        "signup_date": pd.to_datetime(signup).strftime("%Y-%m-%d"),
        "plan": plans, "monthly_fee": fee, "tenure_months": tenure,
        "support_tickets": tickets, "age": age,
        "churned": np.where(churn, "yes", "no"),
    })


def make_sales(rng, customers):
    """2000 orders over 2022-2024 with seasonality and regional differences."""
    n = 2000
    days = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    season = np.asarray(1.0 + 0.35 * np.cos((days.month - 12) / 12 * 2 * np.pi) + 0.1 * (days.year - 2022))
    dates = np.sort(rng.choice(days.values, size=n, p=season / season.sum()))
    region = rng.choice(REGIONS, size=n, p=[0.28, 0.22, 0.2, 0.3])
    pidx = rng.choice(len(PRODUCTS), size=n,
                      p=np.array([6, 8, 10, 10, 4, 6, 5, 9, 14, 10, 8, 10]) / 100.0)
    units = np.array([1 + rng.poisson(1.5 if PRODUCTS[i][2] > 200 else 6) for i in pidx])
    price = np.array([round(PRODUCTS[i][2] * rng.uniform(0.95, 1.05), 2) for i in pidx])
    discount = rng.choice([0.0, 0.05, 0.1, 0.15, 0.2], size=n, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    revenue = np.round(units * price * (1 - discount), 2)
    cust = rng.choice(customers["customer_id"].values, size=n)
    return pd.DataFrame({
        "order_id": np.arange(100001, 100001 + n),
        "order_date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
        "region": region,
        "product": [PRODUCTS[i][0] for i in pidx],
        "category": [PRODUCTS[i][1] for i in pidx],
        "units": units, "unit_price": price, "revenue": revenue,
        "customer_id": cust, "discount": discount,
    })


def make_weather(rng):
    """Daily weather of 2023 for two cities."""
    days = pd.date_range("2023-01-01", "2023-12-31", freq="D")
    rows = []
    for city, mean, amp, wet in (("Oslo", 6.0, 11.0, 0.45), ("Madrid", 15.5, 9.5, 0.18)):
        doy = days.dayofyear.values
        temp = mean - amp * np.cos((doy - 15) / 365 * 2 * np.pi) + rng.normal(0, 2.5, len(days))
        rain = np.where(rng.uniform(size=len(days)) < wet, rng.gamma(1.5, 3.0, len(days)), 0.0)
        hum = np.clip(70 - 0.8 * (temp - mean) + 8 * (rain > 0) + rng.normal(0, 6, len(days)), 15, 100)
        wind = np.abs(rng.normal(14, 6, len(days)))
        rows.append(pd.DataFrame({
            "date": days.strftime("%Y-%m-%d"), "city": city, "temp_c": temp.round(1),
            "precipitation_mm": rain.round(1), "humidity_pct": hum.round(0).astype(int),
            "wind_kmh": wind.round(1)}))
    return pd.concat(rows, ignore_index=True)


def main():
    """Writes the three CSVs into OUTDIR (default: this script's folder)."""
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.RandomState(20240601)
    customers = make_customers(rng)
    sales = make_sales(rng, customers)
    weather = make_weather(rng)
    customers.to_csv(os.path.join(out, "customers.csv"), index=False)
    sales.to_csv(os.path.join(out, "sales.csv"), index=False)
    weather.to_csv(os.path.join(out, "weather.csv"), index=False)
    print(f"wrote sales ({len(sales)}), customers ({len(customers)}), weather ({len(weather)}) to {out}")


if __name__ == "__main__":
    main()
