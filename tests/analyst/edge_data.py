"""tests/analyst/edge_data.py — writes the awkward datasets the corpus also
covers (deterministic; created at test time, never committed):

  edge_nodate    products without any date column
  edge_text      only text columns
  edge_wide      500 numeric columns c000..c499
  edge_unicode   "Revenue" and "revenue " (duplicate-looking), "Größe", "Kategorie", "Datum"
  edge_numtext   amounts stored as text with thousands separators ("1,234.50")
  edge_twodates  two date columns (order_date, ship_date): "over time" must ask
  edge_people    German survey-style names ("Größe_cm", "Gewicht_kg", "Geschlecht"),
                 found from transliterations ("groesse")
  edge_quarters  a quarterly series whose time is text like "1980Q1" (period, money, rate)
  edge_monthly   a monthly series dated m/d/yy on the 1st ("1/1/85": day/month order
                 ambiguous in every value), newest first (unrate, new_orders_index)
  edge_visits    a trial with 4 rows (periods) per subject: "how many patients" counts subjects
  edge_choice    a choice survey: one row per person and option (mode), choice = 1 on the one chosen
  edge_survey    respondents with an education level written in words ("bachelor's degree or higher"),
                 a 1-7 trust score and voted 0/1

write_all(dir) returns {name: path}; the frames themselves come from frames().
"""
import os

import numpy as np
import pandas as pd


def frames():
    """{name: DataFrame} of every edge dataset."""
    rng = np.random.RandomState(7)
    out = {}
    n = 200
    out["edge_nodate"] = pd.DataFrame({
        "product": rng.choice([f"P{i:02d}" for i in range(10)], n),
        "color": rng.choice(["red", "green", "blue", "black", "white"], n),
        "price": rng.uniform(5, 500, n).round(2),
        "weight_kg": rng.uniform(0.1, 20, n).round(3)})
    out["edge_text"] = pd.DataFrame({
        "name": [f"Person {i}" for i in range(50)],
        "city": rng.choice(["Lyon", "Porto", "Graz", "Turku"], 50),
        "comment": [f"note number {i} about things" for i in range(50)]})
    wide = rng.normal(0, 1, size=(60, 500)).round(4)
    out["edge_wide"] = pd.DataFrame(wide, columns=[f"c{i:03d}" for i in range(500)])
    m = 100
    out["edge_unicode"] = pd.DataFrame({
        "Revenue": rng.uniform(10, 1000, m).round(2),
        "revenue ": rng.uniform(1, 100, m).round(2),
        "Größe": rng.randint(150, 200, m),
        "Kategorie": rng.choice(["Äpfel", "Birnen", "Kirschen"], m),
        "Datum": pd.date_range("2023-01-01", periods=m, freq="D").strftime("%Y-%m-%d")})
    k = 120
    amounts = rng.uniform(500, 25000, k).round(2)
    out["edge_numtext"] = pd.DataFrame({
        "order_date": pd.date_range("2023-01-01", periods=k, freq="3D").strftime("%Y-%m-%d"),
        "region": rng.choice(["North", "South"], k),
        "amount": [f"{a:,.2f}" for a in amounts],
        "qty": rng.randint(1, 9, k)})
    j = 150
    od = pd.date_range("2023-01-01", periods=j, freq="2D")
    out["edge_twodates"] = pd.DataFrame({
        "order_date": od.strftime("%Y-%m-%d"),
        "ship_date": (od + pd.to_timedelta(rng.randint(1, 9, j), unit="D")).strftime("%Y-%m-%d"),
        "revenue": rng.uniform(20, 900, j).round(2),
        "region": rng.choice(["North", "South", "East"], j)})
    p = 120
    out["edge_people"] = pd.DataFrame({
        "Größe_cm": rng.randint(150, 200, p),
        "Gewicht_kg": rng.uniform(45, 110, p).round(1),
        "Geschlecht": rng.choice(["weiblich", "männlich"], p)})
    rq = np.random.RandomState(11)   # its own stream: the frames above stay as they were
    q = pd.period_range("1980Q1", "1995Q4", freq="Q")
    out["edge_quarters"] = pd.DataFrame({"period": q.astype(str),
                                         "money": (100 + np.cumsum(rq.normal(1, 2, len(q)))).round(3),
                                         "rate": rq.uniform(2, 9, len(q)).round(3)})
    mo = pd.date_range("1985-01-01", "1999-12-01", freq="MS")[::-1]
    out["edge_monthly"] = pd.DataFrame({"date": [f"{x.month}/1/{x.strftime('%y')}" for x in mo],
                                        "unrate": rq.uniform(4, 8, len(mo)).round(1)})
    out["edge_monthly"]["new_orders_index"] = (100 + 3 * out["edge_monthly"]["unrate"]).round(1)   # no draw: the frames after stay
    subjects = np.arange(1, 46)
    arm = rq.choice(["drug", "placebo"], len(subjects))
    out["edge_visits"] = pd.DataFrame({"subject": np.repeat(subjects, 4), "period": np.tile([1, 2, 3, 4], len(subjects)),
                                       "trt": np.repeat(arm, 4), "y": rq.poisson(5, 4 * len(subjects))})
    people, modes = np.arange(1, 61), ["air", "train", "bus", "car"]
    picked = rq.choice(4, len(people), p=[0.2, 0.3, 0.1, 0.4])
    out["edge_choice"] = pd.DataFrame({"person": np.repeat(people, 4), "mode": modes * len(people),
                                       "choice": [int(k == p) for p in picked for k in range(4)],
                                       "cost": rq.uniform(10, 90, 4 * len(people)).round(1)})
    rs = np.random.RandomState(13)   # its own stream again
    r = 140
    out["edge_survey"] = pd.DataFrame({
        "educ": rs.choice(["less than high school", "high school", "some college", "bachelor's degree or higher"], r),
        "trust": rs.randint(1, 8, r), "voted": rs.randint(0, 2, r)})
    return out


def write_all(directory):
    """Writes every edge dataset as CSV into directory; returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    paths = {}
    for name, frame in frames().items():
        path = os.path.join(directory, name + ".csv")
        frame.to_csv(path, index=False)
        paths[name] = path
    return paths
