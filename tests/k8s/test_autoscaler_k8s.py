"""shoal-autoscaler's Kubernetes client against the real API server: the chart installed (its
storage StatefulSets, the autoscaler's ServiceAccount, Role and RoleBinding), then the built
binary run outside the cluster with explicit flags (`--k8s-scale-once zone=count,...`: the same
policy and client the decision loop uses, once).

Checks: a zone's StatefulSet is raised when desired > current and not lowered when desired <
current; the cap; a token of the chart's ServiceAccount is enough (the Role grants get/patch on
statefulsets/scale), a token without that Role is refused and changes nothing; client
certificates work too.

The binary comes from $SHOAL_BUILD_DIR (default build/): `ninja -C build shoal-autoscaler`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "shoal"
BUILD = Path(os.environ.get("SHOAL_BUILD_DIR", ROOT / "build"))
BINARY = BUILD / "services" / "autoscaler" / "shoal-autoscaler"
RELEASE = "orders"  # fullname orders-shoal: StatefulSets orders-shoal-storage-<zone>
ZONES = ["zone-a", "zone-b", "zone-c"]


@pytest.fixture(scope="module")
def binary():
    if not BINARY.exists():
        if os.environ.get("K8S_REQUIRE") == "1":
            pytest.fail(f"{BINARY} not built", pytrace=False)
        pytest.skip(f"{BINARY} not built (set SHOAL_BUILD_DIR)")
    return BINARY


@pytest.fixture(scope="module")
def release(kube):
    """The chart with two storage nodes per zone; not waited for: only the API objects matter
    here (no storage pod needs a volume for this test)."""
    ns = "shoal-autoscaler-k8s"
    # Its claims name a storage class nobody provides: they stay unbound and leave the zonal
    # PVs to the chart tests (a released PV is never bound again).
    unbound = {"persistence": {"storageClassName": "no-provisioner-autoscaler-test"}}
    kube.helm_install(RELEASE, CHART, namespace=ns, wait=False,
                      values={"zones": ZONES,
                              "storage": {"replicasPerZone": 2, **unbound},
                              "metadata": unbound, "nats": unbound})
    yield ns
    kube.helm_uninstall(RELEASE, ns, wait=True)
    kube.delete_namespace(ns, wait=True)


def replicas(kube, ns, name) -> int:
    return kube.kubectl_json("get", "statefulset", name, "-n", ns, "-o", "json")["spec"]["replicas"]


def deployment_flag(kube, ns, flag) -> str:
    d = kube.kubectl_json("get", "deployment", f"{RELEASE}-shoal-autoscaler", "-n", ns, "-o", "json")
    args = d["spec"]["template"]["spec"]["containers"][0]["args"]
    return next(a.split("=", 1)[1] for a in args if a.startswith(flag + "="))


def api_url(control_plane) -> str:
    return f"https://127.0.0.1:{control_plane.state['ports']['apiserver']}"


def token_file(kube, ns, sa, tmp_path) -> Path:
    tok = kube.kubectl("create", "token", sa, "-n", ns, "--duration=10m").stdout.strip()
    p = tmp_path / f"{sa}.token"
    p.write_text(tok + "\n")
    return p


def scale_once(binary, control_plane, ns, counts, *auth, template, max_nodes=4):
    cmd = [str(binary), "--log-level=info", "--admin-port=0",
           "--k8s-api", api_url(control_plane), "--k8s-ca-file", str(control_plane.pki / "ca.crt"),
           "--k8s-namespace", ns, "--k8s-statefulset", template,
           f"--k8s-max-nodes-per-zone={max_nodes}",
           "--k8s-scale-once", ",".join(f"{z}={n}" for z, n in counts.items()), *auth]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    outcomes = {}
    for line in r.stdout.splitlines():
        m = re.match(r"zone=(\S+) statefulset=(\S+) result=(\S+) current=(-?\d+) target=(-?\d+) reason=(.*)", line)
        if m:
            outcomes[m[1]] = {"statefulset": m[2], "result": m[3], "current": int(m[4]),
                              "target": int(m[5]), "reason": m[6]}
    return r, outcomes


def test_chart_template_names_the_real_statefulsets(kube, release):
    template = deployment_flag(kube, release, "--k8s-statefulset")
    assert template == f"{RELEASE}-shoal-storage-{{zone}}"
    for z in ZONES:
        assert replicas(kube, release, template.replace("{zone}", z)) == 2


def test_scales_up_never_down_with_the_charts_service_account(kube, control_plane, release, binary,
                                                              tmp_path):
    ns = release
    template = deployment_flag(kube, ns, "--k8s-statefulset")
    sts = {z: template.replace("{zone}", z) for z in ZONES}
    tok = token_file(kube, ns, f"{RELEASE}-shoal-autoscaler", tmp_path)
    auth = ("--k8s-token-file", str(tok))

    r, out = scale_once(binary, control_plane, ns, {"zone-a": 3, "zone-b": 1, "zone-c": 9}, *auth,
                        template=template, max_nodes=4)
    diag = r.stdout + r.stderr
    assert r.returncode == 0, diag
    # desired > current: raised.
    assert out["zone-a"]["result"] == "ok" and out["zone-a"]["current"] == 2, diag
    assert replicas(kube, ns, sts["zone-a"]) == 3
    # desired < current: left alone, and the log says why.
    assert out["zone-b"]["result"] == "skipped", diag
    assert "drain" in out["zone-b"]["reason"], diag
    assert replicas(kube, ns, sts["zone-b"]) == 2
    # desired above the cap: raised to the cap.
    assert out["zone-c"]["result"] == "ok" and out["zone-c"]["target"] == 4, diag
    assert replicas(kube, ns, sts["zone-c"]) == 4
    assert "scale up from 2 to 3" in r.stderr + r.stdout, diag

    # Again: nothing left to do, nothing changes.
    r, out = scale_once(binary, control_plane, ns, {"zone-a": 3, "zone-c": 9, "zone-b": 0}, *auth,
                        template=template, max_nodes=4)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {z: o["result"] for z, o in out.items()} == {z: "skipped" for z in ZONES}, out
    assert [replicas(kube, ns, sts[z]) for z in ZONES] == [3, 2, 4]


def test_a_token_without_the_role_is_refused(kube, control_plane, release, binary, tmp_path):
    ns = release
    template = deployment_flag(kube, ns, "--k8s-statefulset")
    before = replicas(kube, ns, template.replace("{zone}", "zone-a"))
    tok = token_file(kube, ns, "default", tmp_path)
    r, out = scale_once(binary, control_plane, ns, {"zone-a": before + 1},
                        "--k8s-token-file", str(tok), template=template, max_nodes=10)
    assert r.returncode == 1, r.stdout + r.stderr
    assert out["zone-a"]["result"] == "error" and "403" in out["zone-a"]["reason"], out
    assert replicas(kube, ns, template.replace("{zone}", "zone-a")) == before


def test_client_certificates_and_a_missing_statefulset(kube, control_plane, release, binary):
    ns = release
    template = deployment_flag(kube, ns, "--k8s-statefulset")
    pki = control_plane.pki
    certs = ("--k8s-client-cert", str(pki / "admin.crt"), "--k8s-client-key", str(pki / "admin.key"))
    before = replicas(kube, ns, template.replace("{zone}", "zone-b"))
    r, out = scale_once(binary, control_plane, ns, {"zone-b": before + 1, "zone-x": 2}, *certs,
                        template=template, max_nodes=10)
    assert out["zone-b"]["result"] == "ok", r.stdout + r.stderr
    assert replicas(kube, ns, template.replace("{zone}", "zone-b")) == before + 1
    # A zone without a StatefulSet is an error (404), and the exit status says so.
    assert out["zone-x"]["result"] == "error" and "404" in out["zone-x"]["reason"], out
    assert r.returncode == 1
