"""``maskjax report`` on a partitioned Parquet dataset: --group-column, --ci, --engine dask.

Checks: per-group numbers = scikit-learn on each group's rows; --ci adds {value, lower, upper}
around the unchanged values; a directory, a glob and one file give the same report; a 2-worker
Dask LocalCluster gives exactly the local engine's JSON.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

from _cli_support import assert_one_line_error, assert_valid_png

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

N = 1600
SITES = np.array(["north", "south", "east", "west", "mid"])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, N)
    site = SITES[rng.integers(0, 5, N)]
    skill = {"north": 0.2, "south": 0.1, "east": 0.05, "west": 0.15, "mid": 0.12}
    shift = np.array([skill[s] for s in site])
    score = np.clip(shift * (2 * y - 1) + rng.uniform(0.2, 0.8, N), 0, 1).astype(np.float32)
    df = pd.DataFrame({"score": score, "label": y, "site": site})
    d = tmp_path_factory.mktemp("parts")
    (d / "ds").mkdir()
    bounds = [0, 350, 800, 1200, N]   # 4 parts of different sizes
    for i in range(4):
        df.iloc[bounds[i]:bounds[i + 1]].to_parquet(d / "ds" / f"part-{i}.parquet")
    df.to_parquet(d / "all.parquet")
    return d, df


def _report(run_cli, path, *extra):
    args = ("report", "--preds", path, "--targets", path, "--column", "preds=score", "targets=label",
            "--task", "binary", "--json", "--no-plots", "--chunk-size", 256, *extra)
    res = run_cli(*args)
    assert res.code == 0, res.err
    return res.json


def test_groups_equal_sklearn_on_each_group(run_cli, dataset):
    d, df = dataset
    s = _report(run_cli, d / "ds", "--group-column", "site")
    assert s["group_column"] == "site" and s["partitions"] == 4 and s["rows"] == N
    assert [g["group"] for g in s["groups"]] == sorted(SITES.tolist())
    for g in s["groups"]:
        rows = df[df.site == g["group"]]
        y, p = rows.label.to_numpy(), rows.score.to_numpy()
        assert g["rows"] == len(rows)
        assert g["accuracy"] == pytest.approx(skm.accuracy_score(y, p > 0.5), rel=1e-6)
        assert g["f1"] == pytest.approx(skm.f1_score(y, p > 0.5), rel=1e-5)
        assert g["binary_cross_entropy"] == pytest.approx(skm.log_loss(y, p.astype(np.float64)), rel=1e-4)
        # per-group AUROC is binned (200 thresholds): close to scikit-learn's exact value
        assert g["auroc"] == pytest.approx(skm.roc_auc_score(y, p), abs=5e-3)
    # the overall numbers are unchanged by --group-column, and AUROC there is exact
    assert s["auroc_route"] == "exact"
    assert s["overall"]["auroc"] == pytest.approx(skm.roc_auc_score(df.label, df.score), rel=1e-5)


def test_directory_glob_and_single_file_agree(run_cli, dataset):
    d, _ = dataset
    whole = _report(run_cli, d / "all.parquet", "--group-column", "site")
    parts = _report(run_cli, d / "ds", "--group-column", "site")
    globbed = _report(run_cli, str(d / "ds" / "part-*.parquet"), "--group-column", "site")
    for other in (parts, globbed):
        for a, b in zip(other["groups"], whole["groups"]):
            assert a == pytest.approx(b, rel=1e-6)
        assert other["overall"] == pytest.approx(whole["overall"], rel=1e-6)
        assert other["confusion_matrix"] == whole["confusion_matrix"]
    assert parts["partitions"] == globbed["partitions"] == 4 and whole["partitions"] == 1


def test_ci_wraps_every_metric_and_keeps_the_values(run_cli, dataset, tmp_path):
    d, df = dataset
    plain = _report(run_cli, d / "ds", "--group-column", "site")
    res = run_cli("report", "--preds", d / "ds", "--targets", d / "ds", "--column", "preds=score",
                  "targets=label", "--task", "binary", "--json", "--chunk-size", 256, "--group-column", "site",
                  "--ci", "0.9", "--replicates", 40, "--out", tmp_path / "plots")
    assert res.code == 0, res.err
    s = res.json
    assert s["ci"]["level"] == 0.9 and s["ci"]["replicates"] == 40
    for key, value in s["overall"].items():
        assert set(value) == {"value", "lower", "upper"}, key
        assert value["value"] == pytest.approx(plain["overall"][key], rel=1e-6)
        assert value["lower"] <= value["upper"]
    assert s["overall"]["accuracy"]["lower"] < s["overall"]["accuracy"]["value"] < s["overall"]["accuracy"]["upper"]
    for g, p in zip(s["groups"], plain["groups"]):
        assert g["group"] == p["group"] and g["rows"] == p["rows"]
        for key in p:
            if key in ("group", "rows"):
                continue
            assert set(g[key]) == {"value", "lower", "upper"}
            assert g[key]["value"] == pytest.approx(p[key], rel=1e-6)
        acc = g["accuracy"]
        assert acc["lower"] < acc["value"] < acc["upper"]
        # about the normal approximation's width at 90%: 2·1.645·sqrt(a(1-a)/n), within a factor 1.6
        a, n = acc["value"], g["rows"]
        normal = 2 * 1.645 * np.sqrt(a * (1 - a) / n)
        assert normal / 1.6 < acc["upper"] - acc["lower"] < normal * 1.6
    assert_valid_png(s["plots"]["per_group"])


def test_dask_engine_equals_local_engine(run_cli, dataset, monkeypatch):
    pytest.importorskip("distributed")
    d, _ = dataset
    monkeypatch.setenv("MASKJAX_DASK_PROCESSES", "0")   # a 2-worker LocalCluster of threads: starts fast
    extra = ("--group-column", "site", "--ci", "0.95", "--replicates", 40)
    local = _report(run_cli, d / "ds", *extra)
    dask = _report(run_cli, d / "ds", *extra, "--engine", "dask", "--workers", 2)
    assert local.pop("engine") == "local (1 process)"
    assert dask.pop("engine") == "dask (LocalCluster of 2 thread worker(s))"
    assert dask == local   # identical numbers: same partition tasks, same tree of merges


def test_table_shows_groups_intervals_and_route(run_cli, dataset):
    d, _ = dataset
    res = run_cli("report", "--preds", d / "ds", "--targets", d / "ds", "--column", "preds=score",
                  "targets=label", "--task", "binary", "--no-plots", "--group-column", "site", "--ci", "95",
                  "--replicates", 40, "--binned", "--chunk-size", 256)
    assert res.code == 0, res.err
    assert "Per group (site):" in res.out
    assert "north" in res.out and "[" in res.out
    assert "(AUROC / AP from curves binned at 200 thresholds)" in res.out
    assert "95% intervals: Poisson bootstrap" in res.out


@pytest.mark.parametrize("extra, needle", [
    (("--group-column", "nope"), "nope"),
    (("--workers", "2"), "--engine dask"),
    (("--ci", "150"), "--ci"),
    (("--replicates", "1", "--ci", "0.9"), "--replicates"),
])
def test_bad_arguments_one_line_errors(run_cli, dataset, extra, needle):
    d, _ = dataset
    res = run_cli("report", "--preds", d / "ds", "--targets", d / "ds", "--column", "preds=score",
                  "targets=label", "--task", "binary", "--no-plots", *extra)
    line = assert_one_line_error(res)
    assert needle in line


def test_group_column_needs_a_table_file(run_cli, tmp_path):
    np.save(tmp_path / "p.npy", np.linspace(0, 1, 10).astype(np.float32))
    np.save(tmp_path / "t.npy", np.arange(10) % 2)
    res = run_cli("report", "--preds", tmp_path / "p.npy", "--targets", tmp_path / "t.npy", "--task", "binary",
                  "--group-column", "site", "--no-plots")
    assert "--group-column" in assert_one_line_error(res)
