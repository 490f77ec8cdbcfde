#!/usr/bin/python3
"""The other side of the attack suite: ordinary analysis works under the
same policy — read_csv, groupby, a RandomForest with n_jobs=2, a seaborn
plot, savefig, writing a table and a model to outputs/, tempfile."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402


def exists(*rel):
    def check(s, ctx, r):
        for p in rel:
            if not os.path.isfile(os.path.join(s.path, p)):
                return "%s is missing" % p
        return None
    return check


ATTACKS = [
    Attack("read_csv", '''
import pandas as pd
sales = pd.read_csv("data/sales.csv")
assert len(sales) == 2000, len(sales)
sales.head()
''', "ok"),
    Attack("groupby", '''
by = sales.groupby("region")["revenue"].sum().sort_values()
assert len(by) > 1
by
''', "ok"),
    Attack("RandomForest n_jobs=2", '''
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import cross_val_score
X = sales[["units", "unit_price", "discount"]]
y = sales["revenue"]
m = RandomForestRegressor(n_estimators=40, n_jobs=2, random_state=0).fit(X, y)
score = cross_val_score(RandomForestRegressor(n_estimators=20, n_jobs=2), X, y, cv=3).mean()
assert score > 0.5, score
round(score, 3)
''', "ok"),
    Attack("seaborn plot and savefig", '''
import seaborn as sns
import matplotlib.pyplot as plt
ax = sns.barplot(data=sales, x="region", y="revenue")
plt.savefig("outputs/plots/by_region.png")
''', "ok", exists("outputs/plots/by_region.png")),
    Attack("tables and models to outputs/", '''
import pickle, tempfile
os.makedirs("outputs/tables", exist_ok=True)
by.to_csv("outputs/tables/by_region.csv")
os.makedirs("outputs/models", exist_ok=True)
pickle.dump(m, open("outputs/models/rf.pkl", "wb"))
with tempfile.NamedTemporaryFile() as t:
    t.write(b"scratch")
''', "ok", exists("outputs/tables/by_region.csv", "outputs/models/rf.pkl")),
    Attack("numpy, scipy, threads", '''
import numpy as np, scipy.stats, threading
a = np.random.default_rng(0).normal(size=(300, 300))
np.linalg.inv(a @ a.T + np.eye(300))
results = []
ts = [threading.Thread(target=lambda: results.append(scipy.stats.norm.ppf(0.975))) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
assert len(results) == 4
''', "ok"),
]

if __name__ == "__main__":
    sys.exit(run_suite("positive", ATTACKS))
