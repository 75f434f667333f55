"""kubectl/helm helpers for tests against the KWOK control plane.

Everything goes through a ``Kube`` bound to one kubeconfig and tool dir, so
tests never depend on the caller's PATH or ~/.kube/config:

    kube = Kube.for_control_plane(cp)           # or Kube(kubeconfig, bin_dir)
    kube.helm_install("demo", chart_dir, namespace="t", wait=True, timeout="3m")
    kube.pods_by_zone("t", "app=db")            # {"zone-a": [Pod, ...], ...}
    kube.cordon(node); kube.evict(pod, "t")     # eviction API -> EvictionResult
    res = kube.drain(node, timeout="20s", check=False)

All commands raise ``KubeError`` (with the command, exit code, stdout and
stderr) on failure unless ``check=False``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"


class KubeError(RuntimeError):
    def __init__(self, cmd, returncode, stdout, stderr):
        self.cmd, self.returncode, self.stdout, self.stderr = cmd, returncode, stdout, stderr
        super().__init__(
            f"{' '.join(map(str, cmd))} exited {returncode}\n--- stdout ---\n{stdout[-4000:]}\n"
            f"--- stderr ---\n{stderr[-4000:]}"
        )


class WaitTimeout(AssertionError):
    pass


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 60,
    interval: float = 0.5,
    desc: str = "condition",
    on_timeout: Callable[[], str] | None = None,
):
    """Poll ``predicate`` until it returns a truthy value (returned).

    Exceptions from the predicate count as "not yet"; on timeout raises
    WaitTimeout with the last value/exception and ``on_timeout()`` output.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as e:  # noqa: BLE001
            last = e
        if time.monotonic() >= deadline:
            extra = ""
            if on_timeout:
                try:
                    extra = "\n" + on_timeout()
                except Exception as e:  # noqa: BLE001
                    extra = f"\n(diagnostics failed: {e})"
            raise WaitTimeout(f"timed out after {timeout}s waiting for {desc}; last: {last!r}{extra}")
        time.sleep(interval)


@dataclass
class Pod:
    name: str
    namespace: str
    node: str | None
    zone: str | None
    phase: str
    ready: bool
    deleting: bool
    labels: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass
class EvictionResult:
    allowed: bool
    status: int  # HTTP-ish: 201 created, 429 PDB violation, 404, 500...
    message: str


class Kube:
    def __init__(self, kubeconfig: str | Path, bin_dir: str | Path, env: dict | None = None):
        self.kubeconfig = str(kubeconfig)
        self.bin_dir = Path(bin_dir)
        base = dict(env if env is not None else os.environ)
        base["KUBECONFIG"] = self.kubeconfig
        base["PATH"] = f"{self.bin_dir}{os.pathsep}{base.get('PATH', '')}"
        self.env = base

    @classmethod
    def for_control_plane(cls, cp) -> "Kube":
        return cls(cp.kubeconfig, cp.bin_dir, env=cp.env())

    # --------------------------------------------------------------- runners
    def run(self, tool: str, *args, check=True, input=None, timeout=300) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / tool), *map(str, args)]
        res = subprocess.run(cmd, env=self.env, input=input, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise KubeError(cmd, res.returncode, res.stdout, res.stderr)
        return res

    def kubectl(self, *args, check=True, input=None, timeout=300) -> subprocess.CompletedProcess:
        return self.run("kubectl", *args, check=check, input=input, timeout=timeout)

    def helm(self, *args, check=True, input=None, timeout=600) -> subprocess.CompletedProcess:
        return self.run("helm", *args, check=check, input=input, timeout=timeout)

    def kubectl_json(self, *args, **kw) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json", **kw).stdout)

    # ------------------------------------------------------------- resources
    def apply(self, manifest: str | dict | list, namespace: str | None = None):
        if not isinstance(manifest, str):
            items = manifest if isinstance(manifest, list) else [manifest]
            manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        ns = ["-n", namespace] if namespace else []
        return self.kubectl("apply", *ns, "-f", "-", input=manifest)

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, selector: str | None = None):
        """Object dict (with name) or list of item dicts (without)."""
        args = ["get", kind]
        if name:
            args.append(name)
        if namespace:
            args += ["-n", namespace]
        if selector:
            args += ["-l", selector]
        data = self.kubectl_json(*args)
        return data if name else data.get("items", [])

    def exists(self, kind: str, name: str, namespace: str | None = None) -> bool:
        ns = ["-n", namespace] if namespace else []
        return self.kubectl("get", kind, name, *ns, check=False).returncode == 0

    def create_namespace(self, name: str):
        if not self.exists("namespace", name):
            self.kubectl("create", "namespace", name)

    def delete_namespace(self, name: str, wait: bool = False):
        self.kubectl("delete", "namespace", name, "--ignore-not-found", f"--wait={str(wait).lower()}")

    # ------------------------------------------------------------------ helm
    def helm_install(
        self,
        release: str,
        chart: str | Path,
        namespace: str = "default",
        values: dict | None = None,
        values_files: Iterable[str | Path] = (),
        set_values: dict | None = None,
        wait: bool = True,
        timeout: str = "3m",
        upgrade: bool = True,
        extra: Iterable[str] = (),
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        """``helm upgrade --install`` (or plain install) with --wait/--timeout."""
        args = ["upgrade", "--install"] if upgrade else ["install"]
        args += [release, str(chart), "--namespace", namespace, "--create-namespace"]
        if wait:
            args += ["--wait", "--timeout", timeout]
        for f in values_files:
            args += ["-f", str(f)]
        for k, v in (set_values or {}).items():
            args += ["--set", f"{k}={v}"]
        stdin = None
        if values:
            args += ["-f", "-"]
            stdin = json.dumps(values)
        args += list(extra)
        secs = _duration_seconds(timeout) + 60 if wait else 300
        return self.helm(*args, input=stdin, check=check, timeout=secs)

    def helm_uninstall(self, release: str, namespace: str = "default", wait: bool = False):
        args = ["uninstall", release, "--namespace", namespace, "--ignore-not-found"]
        if wait:
            args.append("--wait")
        return self.helm(*args, check=False)

    def helm_template(self, release: str, chart: str | Path, namespace: str = "default", *extra) -> str:
        return self.helm("template", release, str(chart), "--namespace", namespace, *extra).stdout

    # ----------------------------------------------------------- nodes/pods
    def nodes(self, selector: str | None = None) -> list[dict]:
        return self.get("nodes", selector=selector)

    def node_zones(self) -> dict[str, str | None]:
        """node name -> zone label."""
        return {n["metadata"]["name"]: n["metadata"].get("labels", {}).get(ZONE_LABEL) for n in self.nodes()}

    def nodes_in_zone(self, zone: str) -> list[str]:
        return sorted(n for n, z in self.node_zones().items() if z == zone)

    def pods(self, namespace: str, selector: str | None = None) -> list[Pod]:
        zones = self.node_zones()
        out = []
        for p in self.get("pods", namespace=namespace, selector=selector):
            st = p.get("status", {})
            conds = {c["type"]: c["status"] for c in st.get("conditions", []) or []}
            node = p.get("spec", {}).get("nodeName")
            out.append(
                Pod(
                    name=p["metadata"]["name"],
                    namespace=p["metadata"]["namespace"],
                    node=node,
                    zone=zones.get(node) if node else None,
                    phase=st.get("phase", ""),
                    ready=conds.get("Ready") == "True",
                    deleting="deletionTimestamp" in p["metadata"],
                    labels=p["metadata"].get("labels", {}),
                    raw=p,
                )
            )
        return sorted(out, key=lambda x: x.name)

    def pod(self, name: str, namespace: str) -> Pod | None:
        for p in self.pods(namespace, None):
            if p.name == name:
                return p
        return None

    def pods_by_zone(self, namespace: str, selector: str | None = None, ready_only: bool = False) -> dict:
        """zone -> [Pod] for scheduled pods ("" key for unscheduled)."""
        out: dict[str, list[Pod]] = {}
        for p in self.pods(namespace, selector):
            if ready_only and not p.ready:
                continue
            out.setdefault(p.zone or "", []).append(p)
        return out

    def pods_by_node(self, namespace: str, selector: str | None = None) -> dict:
        out: dict[str, list[Pod]] = {}
        for p in self.pods(namespace, selector):
            out.setdefault(p.node or "", []).append(p)
        return out

    def wait_pods_ready(self, namespace: str, selector: str, count: int, timeout: float = 120) -> list[Pod]:
        def ok():
            pods = [p for p in self.pods(namespace, selector) if p.ready and not p.deleting]
            return pods if len(pods) >= count else None

        return wait_for(ok, timeout, desc=f"{count} ready pods {selector} in {namespace}",
                        on_timeout=lambda: self.describe_namespace(namespace))

    def wait_statefulset_ready(self, name: str, namespace: str, timeout: float = 180):
        def ok():
            s = self.get("statefulset", name, namespace)
            want = s["spec"].get("replicas", 1)
            st = s.get("status", {})
            return st.get("readyReplicas", 0) == want and st.get("updatedReplicas", 0) == want

        return wait_for(ok, timeout, desc=f"statefulset {namespace}/{name} ready",
                        on_timeout=lambda: self.describe_namespace(namespace))

    # -------------------------------------------------- disruption / drains
    def cordon(self, *nodes: str):
        for n in nodes:
            self.kubectl("cordon", n)

    def uncordon(self, *nodes: str):
        for n in nodes:
            self.kubectl("uncordon", n)

    def evict(self, pod: str, namespace: str) -> EvictionResult:
        """POST an Eviction (policy/v1). 429 means a PDB refused it."""
        body = json.dumps(
            {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
        )
        res = self.kubectl(
            "create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", "-f", "-",
            input=body, check=False,
        )
        if res.returncode == 0:
            return EvictionResult(True, 201, res.stdout.strip())
        msg = (res.stderr + res.stdout).strip()
        status = 500
        for code in (429, 404, 409, 403, 500):
            if f"({code})" in msg or f'"code":{code}' in msg or f"code {code}" in msg:
                status = code
                break
        if "disruption budget" in msg:
            status = 429
        return EvictionResult(False, status, msg)

    def drain(
        self,
        node: str,
        timeout: str = "60s",
        pod_selector: str | None = None,
        check: bool = True,
        extra: Iterable[str] = (),
    ) -> subprocess.CompletedProcess:
        """``kubectl drain`` (cordons, then evicts honouring PDBs).

        With check=False returns the CompletedProcess so a test can assert a
        blocked drain (non-zero exit, "disruption budget" in stderr).
        """
        args = ["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                f"--timeout={timeout}"]
        if pod_selector:
            args.append(f"--pod-selector={pod_selector}")
        args += list(extra)
        return self.kubectl(*args, check=check, timeout=_duration_seconds(timeout) + 60)

    def pdb_status(self, name: str, namespace: str) -> dict:
        return self.get("pdb", name, namespace).get("status", {})

    # ------------------------------------------------------------ debugging
    def describe_namespace(self, namespace: str) -> str:
        """Pods (wide), PVCs, PDBs and recent events, for failure messages."""
        parts = []
        for args in (
            ("get", "pods,statefulsets,deployments,pvc,pdb", "-n", namespace, "-o", "wide"),
            ("get", "nodes,pv", "-o", "wide"),
            ("get", "events", "-n", namespace, "--sort-by=.lastTimestamp"),
        ):
            r = self.kubectl(*args, check=False)
            parts.append(f"$ kubectl {' '.join(args)}\n{r.stdout}{r.stderr}")
        return "\n".join(parts)[-12000:]


def _duration_seconds(d: str | int | float) -> float:
    if isinstance(d, (int, float)):
        return float(d)
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for ch in d:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units:
            total += float(num or 0) * units[ch]
            num = ""
    return total + (float(num) if num else 0)


def blocked_by_pdb(res: subprocess.CompletedProcess) -> bool:
    """True if a `kubectl drain` result failed because of a disruption budget."""
    return res.returncode != 0 and "disruption budget" in (res.stdout + res.stderr)


@dataclass
class ZoneDrainResult:
    zone: str
    first_node: str
    second_node: str
    evicted: Pod
    eviction: EvictionResult
    replacement: Pod | None
    survivor: Pod
    drain: subprocess.CompletedProcess
    timings: dict


def check_zone_drain_blocked_by_pdb(
    kube: Kube,
    namespace: str,
    selector: str,
    zone: str,
    pdb_name: str | None = None,
    drain_timeout: str = "20s",
    settle_timeout: float = 60,
    uncordon: bool = True,
) -> ZoneDrainResult:
    """The zone-outage/PDB scenario, for any workload with 2 pods in ``zone``.

    ``selector`` must select exactly the pods covered by one PDB with
    maxUnavailable=1 (e.g. one zone's StatefulSet). Steps:
      1. cordon every node of the zone;
      2. evict the pod on the first node through the eviction API: must be allowed;
      3. wait until it is gone and its replacement is Pending (unschedulable: the
         zone is cordoned; zonal PVs keep it there);
      4. ``kubectl drain --timeout=<drain_timeout>`` the second node: must fail
         with a "disruption budget" message, and its pod must be untouched;
      5. uncordon the zone's nodes (unless uncordon=False), even on failure.
    Raises AssertionError (with namespace diagnostics) when a step misbehaves.
    """
    diag = lambda: kube.describe_namespace(namespace)  # noqa: E731
    zone_nodes = kube.nodes_in_zone(zone)
    by_node = {n: [p for p in ps if not p.deleting] for n, ps in kube.pods_by_node(namespace, selector).items()}
    occupied = [n for n in zone_nodes if by_node.get(n)]
    if len(occupied) < 2:
        raise AssertionError(f"{selector}: need pods on 2 nodes of {zone}, got {by_node}\n{diag()}")
    first, second = occupied[0], occupied[1]
    timings: dict[str, float] = {}
    try:
        kube.cordon(*zone_nodes)
        if pdb_name:
            wait_for(lambda: kube.pdb_status(pdb_name, namespace).get("disruptionsAllowed", 0) >= 1,
                     settle_timeout, desc=f"PDB {pdb_name} allows a disruption", on_timeout=diag)
        victim = by_node[first][0]
        t0 = time.monotonic()
        eviction = kube.evict(victim.name, namespace)
        if not eviction.allowed:
            raise AssertionError(f"eviction of {victim.name} on {first} refused: {eviction}\n{diag()}")

        def victim_replaced():
            pods = kube.pods(namespace, selector)
            if any(p.raw["metadata"]["uid"] == victim.raw["metadata"]["uid"] for p in pods):
                return None
            pending = [p for p in pods if p.node is None]
            return pending or None

        pending = wait_for(victim_replaced, settle_timeout, desc=f"{victim.name} evicted and replacement Pending",
                           on_timeout=diag)
        replacement = next((p for p in pending if p.name == victim.name), pending[0])
        if pdb_name:
            wait_for(lambda: kube.pdb_status(pdb_name, namespace).get("disruptionsAllowed", 1) == 0,
                     settle_timeout, desc=f"PDB {pdb_name} exhausted", on_timeout=diag)
        timings["evict + replacement Pending"] = round(time.monotonic() - t0, 2)

        survivor = by_node[second][0]
        t0 = time.monotonic()
        drain = kube.drain(second, timeout=drain_timeout, pod_selector=selector, check=False)
        timings["blocked drain"] = round(time.monotonic() - t0, 2)
        if not blocked_by_pdb(drain):
            raise AssertionError(
                f"drain of {second} was not blocked by the disruption budget (exit {drain.returncode}):\n"
                f"{drain.stdout}{drain.stderr}\n{diag()}"
            )
        still = kube.pod(survivor.name, namespace)
        if not (still and still.raw["metadata"]["uid"] == survivor.raw["metadata"]["uid"]
                and still.node == second and still.ready and not still.deleting):
            raise AssertionError(f"{survivor.name} on {second} was disturbed: {still}\n{diag()}")
        return ZoneDrainResult(zone, first, second, victim, eviction, replacement, still, drain, timings)
    finally:
        if uncordon:
            kube.uncordon(*zone_nodes)
