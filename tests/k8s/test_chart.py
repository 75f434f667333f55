"""charts/shoal: lint, render, unit tests, and an install on a real control plane whose six
KWOK nodes sit two per zone in three zones; then drains against the disruption budgets.

The storage nodes share one PodDisruptionBudget across zones (maxUnavailable 1): with one
storage node of zone-a down, draining a zone-b node must be refused, because the two could
hold two of one partition's three replicas.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from kube import blocked_by_pdb, wait_for

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "shoal"
VALUE_SETS = {"default": [], **{p.stem: [p] for p in sorted((CHART / "ci").glob("*-values.yaml"))}}
ZONES = ["zone-a", "zone-b", "zone-c"]
STORAGE = "app.kubernetes.io/component=storage"
INSTALL_VALUES = {
    "zones": ZONES,
    "storage": {"replicasPerZone": 2},
    "router": {"replicas": 3},
}


def helm_args(files):
    return [a for f in files for a in ("-f", str(f))]


def values_of(files):
    v = yaml.safe_load((CHART / "values.yaml").read_text())
    for f in files:
        for k, x in yaml.safe_load(Path(f).read_text()).items():
            v[k] = {**v[k], **x} if isinstance(x, dict) else x
    return v


@pytest.mark.parametrize("name", list(VALUE_SETS))
def test_lint_strict(kube, name):
    r = kube.helm("lint", "--strict", str(CHART), *helm_args(VALUE_SETS[name]), check=False)
    assert r.returncode == 0 and "0 chart(s) failed" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("name", list(VALUE_SETS))
def test_template_renders_the_fleet(kube, name):
    files = VALUE_SETS[name]
    v = values_of(files)
    out = kube.helm("template", "shoal", str(CHART), *helm_args(files)).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    kinds = Counter(d["kind"] for d in docs)
    sts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "StatefulSet"}
    storage = {n: d for n, d in sts.items() if "-storage-" in n}
    assert len(storage) == len(v["zones"]), sorted(sts)
    for d in storage.values():
        zone = next(e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
                    if e["name"] == "SHOAL_ZONE")
        term = d["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
        assert term["matchExpressions"][0]["values"] == [zone]
        assert d["spec"]["replicas"] == v["storage"]["replicasPerZone"]
    assert sts["shoal-metadata"]["spec"]["replicas"] == v["metadata"]["replicas"]
    assert sts["shoal-nats"]["spec"]["replicas"] == v["nats"]["replicas"]
    # router and autoscaler
    assert kinds["Deployment"] == 2 and kinds["PodDisruptionBudget"] == 4, kinds
    assert kinds["Role"] == 1 and kinds["RoleBinding"] == 1 and kinds["ServiceAccount"] == 1, kinds
    assert kinds["ConfigMap"] == 1 + 4, kinds  # NATS config + four dashboards
    # Every workload container has all three probes and runs as non-root.
    for d in docs:
        if d["kind"] in ("StatefulSet", "Deployment"):
            spec = d["spec"]["template"]["spec"]
            assert spec["securityContext"]["runAsNonRoot"] is True
            for c in spec["containers"]:
                assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(c), d["metadata"]["name"]
                assert c["securityContext"]["readOnlyRootFilesystem"] is True


def test_helm_unittest(kube):
    r = kube.helm("unittest", str(CHART), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    tests_line = next(line for line in r.stdout.splitlines() if line.startswith("Tests:"))
    assert "failed" not in tests_line and "passed" in tests_line, r.stdout


@pytest.fixture(scope="module")
def installed(kube, k8s_timings):
    ns = "shoal-chart"
    t0 = time.monotonic()
    r = kube.helm_install("shoal", CHART, namespace=ns, values=INSTALL_VALUES, timeout="4m",
                          check=False)
    k8s_timings["shoal helm install --wait"] = round(time.monotonic() - t0, 2)
    assert r.returncode == 0, r.stdout + r.stderr + kube.describe_namespace(ns)
    yield ns
    kube.helm_uninstall("shoal", ns)
    kube.delete_namespace(ns)


def test_install_waits_for_every_workload(kube, installed):
    pods = kube.pods(installed)
    by_comp = Counter(p.labels.get("app.kubernetes.io/component") for p in pods if p.ready)
    assert by_comp == {"storage": 6, "metadata": 3, "nats": 3, "router": 3, "autoscaler": 1}, \
        (by_comp, pods)
    pvcs = kube.kubectl_json("get", "pvc", "-n", installed, "-o", "json")["items"]
    assert len(pvcs) == 12 and all(p["status"]["phase"] == "Bound" for p in pvcs), \
        [(p["metadata"]["name"], p["status"]["phase"]) for p in pvcs]


def test_storage_nodes_land_two_per_zone_on_distinct_nodes(kube, installed):
    pods = kube.pods(installed, STORAGE)
    per_zone = Counter(p.zone for p in pods)
    assert per_zone == {z: 2 for z in ZONES}, [(p.name, p.node, p.zone) for p in pods]
    for p in pods:
        # The pod's StatefulSet is the zone the process is told (SHOAL_ZONE).
        assert p.labels["shoal.dev/zone"] == p.zone, p
    for z in ZONES:
        assert len({p.node for p in pods if p.zone == z}) == 2, [(p.name, p.node) for p in pods]


@pytest.mark.parametrize("component", ["metadata", "nats"])
def test_raft_and_nats_members_one_per_zone(kube, installed, component):
    pods = kube.pods(installed, f"app.kubernetes.io/component={component}")
    assert sorted(p.zone for p in pods) == ZONES, [(p.name, p.node, p.zone) for p in pods]


def test_routers_spread_over_zones(kube, installed):
    pods = kube.pods(installed, "app.kubernetes.io/component=router")
    assert sorted(p.zone for p in pods) == ZONES, [(p.name, p.node, p.zone) for p in pods]


def test_drain_respects_the_storage_budget_across_zones(kube, installed, k8s_timings):
    ns = installed
    diag = lambda: kube.describe_namespace(ns)  # noqa: E731
    pdb = "shoal-storage"
    pods = kube.pods(ns, STORAGE)
    zone_a = kube.nodes_in_zone("zone-a")
    victim = next(p for p in pods if p.zone == "zone-a")
    survivor = next(p for p in pods if p.zone == "zone-b")
    wait_for(lambda: kube.pdb_status(pdb, ns).get("disruptionsAllowed", 0) == 1, 60,
             desc="storage PDB allows one disruption", on_timeout=diag)
    try:
        # zone-a has no room left: its evicted storage node cannot come back yet.
        kube.cordon(*zone_a)
        t0 = time.monotonic()
        ev = kube.evict(victim.name, ns)
        assert ev.allowed, ev
        wait_for(lambda: (lambda p: p is not None and p.node is None)(kube.pod(victim.name, ns)), 60,
                 desc=f"{victim.name} evicted and Pending", on_timeout=diag)
        wait_for(lambda: kube.pdb_status(pdb, ns).get("disruptionsAllowed", 1) == 0, 60,
                 desc="storage PDB exhausted", on_timeout=diag)
        k8s_timings["storage evict + PDB exhausted"] = round(time.monotonic() - t0, 2)

        # A second storage node in another zone must not go.
        t0 = time.monotonic()
        drain = kube.drain(survivor.node, timeout="15s", pod_selector=STORAGE, check=False)
        k8s_timings["blocked drain"] = round(time.monotonic() - t0, 2)
        assert blocked_by_pdb(drain), drain.stdout + drain.stderr + diag()
        still = kube.pod(survivor.name, ns)
        assert still and still.raw["metadata"]["uid"] == survivor.raw["metadata"]["uid"] \
            and still.node == survivor.node and still.ready and not still.deleting, still
        kube.uncordon(survivor.node)
    finally:
        kube.uncordon(*zone_a)

    # With zone-a schedulable again the fleet heals, and a whole node drains one pod at a time.
    kube.wait_pods_ready(ns, STORAGE, 6, timeout=120)
    wait_for(lambda: kube.pdb_status(pdb, ns).get("disruptionsAllowed", 0) == 1, 60,
             desc="storage PDB allows one disruption again", on_timeout=diag)
    node = kube.pod(survivor.name, ns).node
    t0 = time.monotonic()
    r = kube.drain(node, timeout="90s", check=False)
    k8s_timings["full node drain"] = round(time.monotonic() - t0, 2)
    assert r.returncode == 0, r.stdout + r.stderr + diag()
    try:
        kube.wait_pods_ready(ns, STORAGE, 6, timeout=120)
        moved = kube.pod(survivor.name, ns)
        assert moved.node != node and moved.zone == "zone-b", moved
    finally:
        kube.uncordon(node)
