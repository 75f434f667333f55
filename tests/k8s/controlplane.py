#!/usr/bin/env python3
"""A real Kubernetes control plane without containers, with KWOK fake nodes.

Starts, as local processes on free 127.0.0.1 ports under a run dir:
etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, then
creates six fake nodes (two per zone in zone-a/b/c), a default StorageClass
and static zonal PersistentVolumes so StatefulSet volumeClaimTemplates bind.

Binaries come from scripts/k8s-tools.sh (.cache/k8s-tools/bin).

CLI:
    python3 tests/k8s/controlplane.py start [--run-dir DIR] [--pvs N] [--pv-size 20Gi]
    python3 tests/k8s/controlplane.py env   [--run-dir DIR]    # prints export lines
    python3 tests/k8s/controlplane.py stop  [--run-dir DIR]
    python3 tests/k8s/controlplane.py status [--run-dir DIR]

    eval "$(python3 tests/k8s/controlplane.py env)"; kubectl get nodes

Library:
    cp = ControlPlane(run_dir)            # or ControlPlane.from_env()
    cp.start(); cp.kubeconfig; cp.env(); cp.stop()
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS_CACHE = Path(os.environ.get("K8S_TOOLS_CACHE", REPO / ".cache" / "k8s-tools"))
DEFAULT_BIN = Path(os.environ.get("K8S_TOOLS_BIN", TOOLS_CACHE / "bin"))
DEFAULT_RUN_DIR = Path(os.environ.get("K8S_RUN_DIR", REPO / ".run" / "k8s"))
KWOK_CONFIG = Path(os.environ.get("KWOK_CONFIG", TOOLS_CACHE / "etc" / "kwok.yaml"))

ZONES = ("zone-a", "zone-b", "zone-c")
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
STORAGE_CLASS = "standard"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
TOOLS = COMPONENTS + ("kubectl",)


class ControlPlaneError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists": reap it if we can.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _is_ours(proc: dict) -> bool:
    try:
        argv0 = Path(f"/proc/{proc['pid']}/cmdline").read_bytes().split(b"\0")[0].decode()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return argv0 == proc["cmd"][0]


def _tail(path: Path, lines: int = 30) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(data[-lines:])


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    check = kw.pop("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    cmd = [str(c) for c in cmd]
    res = subprocess.run(cmd, **kw)
    if check and res.returncode != 0:
        raise ControlPlaneError(
            f"{' '.join(cmd)} exited {res.returncode}:\n{(res.stdout or '')[-2000:]}{(res.stderr or '')[-2000:]}"
        )
    return res


class ControlPlane:
    """One control plane, its state persisted in ``run_dir/state.json``."""

    def __init__(
        self,
        run_dir: Path | str = DEFAULT_RUN_DIR,
        bin_dir: Path | str = DEFAULT_BIN,
        zones=ZONES,
        nodes_per_zone: int = 2,
        pv_count: int = 24,
        pv_size: str = "20Gi",
        pv_zonal: bool = True,
        node_cpu: str = "32",
        node_memory: str = "64Gi",
        node_pods: str = "110",
        start_timeout: float = 120.0,
    ):
        self.run_dir = Path(run_dir).resolve()
        self.bin_dir = Path(bin_dir)
        self.zones = tuple(zones)
        self.nodes_per_zone = nodes_per_zone
        self.pv_count = pv_count
        self.pv_size = pv_size
        self.pv_zonal = pv_zonal
        self.node_cpu, self.node_memory, self.node_pods = node_cpu, node_memory, node_pods
        self.start_timeout = start_timeout
        self.state_file = self.run_dir / "state.json"
        self.log_dir = self.run_dir / "logs"
        self.pki = self.run_dir / "pki"
        self.kubeconfig = self.run_dir / "kubeconfig"
        self.state: dict = {}
        if self.state_file.exists():
            self.state = json.loads(self.state_file.read_text())

    # ------------------------------------------------------------------ info
    @property
    def node_names(self) -> list[str]:
        return [f"kwok-{z}-{i}" for z in self.zones for i in range(1, self.nodes_per_zone + 1)]

    def missing_tools(self) -> list[str]:
        missing = [t for t in TOOLS if not (self.bin_dir / t).exists()]
        if not KWOK_CONFIG.exists():
            missing.append(str(KWOK_CONFIG))
        return missing

    def env(self) -> dict[str, str]:
        """Environment for kubectl/helm against this cluster."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        plugins = TOOLS_CACHE / "helm-plugins"
        if plugins.exists():
            env["HELM_PLUGINS"] = str(plugins)
        # Keep helm's cache/config away from $HOME.
        env.setdefault("HELM_CACHE_HOME", str(self.run_dir / "helm" / "cache"))
        env.setdefault("HELM_CONFIG_HOME", str(self.run_dir / "helm" / "config"))
        env.setdefault("HELM_DATA_HOME", str(self.run_dir / "helm" / "data"))
        return env

    def is_running(self) -> bool:
        procs = self.state.get("procs", {})
        return bool(procs) and all(_alive(p["pid"]) for p in procs.values()) and self._readyz()

    def kubectl(self, *args, check=True, input=None, timeout=60) -> subprocess.CompletedProcess:
        return _run(
            [self.bin_dir / "kubectl", *args], env=self.env(), check=check, input=input, timeout=timeout
        )

    # ----------------------------------------------------------------- start
    def start(self) -> "ControlPlane":
        if self.state.get("procs"):
            if self.is_running():
                return self
            self.stop()
        missing = self.missing_tools()
        if missing:
            raise ControlPlaneError(
                f"missing tools {missing}; run scripts/k8s-tools.sh to build them"
            )
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        self.log_dir.mkdir(parents=True)
        self.pki.mkdir()
        t0 = time.monotonic()
        ports = {
            "etcd_client": free_port(),
            "etcd_peer": free_port(),
            "apiserver": free_port(),
            "controller_manager": free_port(),
            "scheduler": free_port(),
            "kwok": free_port(),
        }
        self.state = {"ports": ports, "procs": {}, "timings": {}}
        self._save()
        try:
            self._make_pki()
            self._write_kubeconfig()
            self._start_etcd()
            self._start_apiserver()
            self._start_controller_manager()
            self._start_scheduler()
            self._start_kwok()
            self._create_nodes()
            self._create_storage()
            self._wait_nodes_ready()
            self._wait_default_serviceaccount()
        except BaseException as e:
            msg = self.diagnostics()
            self.stop()
            if isinstance(e, ControlPlaneError):
                raise ControlPlaneError(f"{e}\n{msg}") from None
            print(msg, file=sys.stderr)
            raise
        self.state["timings"]["total"] = round(time.monotonic() - t0, 2)
        self._save()
        return self

    def _save(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2))
        tmp.replace(self.state_file)

    def _spawn(self, name: str, cmd: list) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.run_dir,
            start_new_session=True,  # own process group: stop() kills the group
        )
        log.close()
        self.state["procs"][name] = {"pid": proc.pid, "pgid": proc.pid, "cmd": [str(c) for c in cmd]}
        self._save()

    def _wait(self, what: str, probe, timeout: float | None = None, component: str | None = None):
        timeout = timeout or self.start_timeout
        t0 = time.monotonic()
        deadline = t0 + timeout
        last = None
        while time.monotonic() < deadline:
            if component:
                pid = self.state["procs"][component]["pid"]
                if not _alive(pid):
                    raise ControlPlaneError(f"{component} exited while waiting for {what}")
            try:
                if probe():
                    self.state["timings"][what] = round(time.monotonic() - t0, 2)
                    return
            except Exception as e:  # noqa: BLE001 - probes fail until ready
                last = e
            time.sleep(0.25)
        raise ControlPlaneError(f"timed out after {timeout}s waiting for {what} (last error: {last})")

    # PKI: a CA, the apiserver serving cert, an admin client cert in
    # system:masters (full access under RBAC), and the service-account key.
    def _openssl(self, *args):
        _run(["openssl", *args], cwd=self.pki)

    def _make_pki(self):
        p = self.pki
        self._openssl("genrsa", "-out", "ca.key", "2048")
        self._openssl(
            "req", "-x509", "-new", "-nodes", "-key", "ca.key", "-subj", "/CN=shoal-test-ca",
            "-days", "30", "-out", "ca.crt",
        )
        (p / "apiserver.ext").write_text(
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,"
            "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
        )
        (p / "client.ext").write_text(
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=clientAuth\n"
        )
        for name, subj, ext in (
            ("apiserver", "/CN=kube-apiserver", "apiserver.ext"),
            ("admin", "/O=system:masters/CN=kubernetes-admin", "client.ext"),
        ):
            self._openssl("genrsa", "-out", f"{name}.key", "2048")
            self._openssl("req", "-new", "-key", f"{name}.key", "-subj", subj, "-out", f"{name}.csr")
            self._openssl(
                "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", f"{name}.crt",
            )
        self._openssl("genrsa", "-out", "sa.key", "2048")
        self._openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")

    def _write_kubeconfig(self):
        port = self.state["ports"]["apiserver"]
        self.kubeconfig.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
- name: kwok
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority: {self.pki}/ca.crt
users:
- name: admin
  user:
    client-certificate: {self.pki}/admin.crt
    client-key: {self.pki}/admin.key
contexts:
- name: kwok
  context: {{cluster: kwok, user: admin, namespace: default}}
current-context: kwok
"""
        )
        self.kubeconfig.chmod(0o600)

    def _https_ok(self, port: int, path: str, client_cert: bool) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        if client_cert:
            ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        else:  # components serve self-signed certs
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=ctx, timeout=5) as r:
            return r.status == 200 and r.read().strip() == b"ok"

    def _readyz(self) -> bool:
        try:
            return self._https_ok(self.state["ports"]["apiserver"], "/readyz", True)
        except Exception:  # noqa: BLE001
            return False

    def _start_etcd(self):
        c, p = self.state["ports"]["etcd_client"], self.state["ports"]["etcd_peer"]
        etcd = self.bin_dir / "etcd"
        cmd = [
            etcd, "--name", "cp", "--data-dir", self.run_dir / "etcd",
            "--listen-client-urls", f"http://127.0.0.1:{c}",
            "--advertise-client-urls", f"http://127.0.0.1:{c}",
            "--listen-peer-urls", f"http://127.0.0.1:{p}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{p}",
            "--initial-cluster", f"cp=http://127.0.0.1:{p}",
            "--log-level", "warn",
        ]
        if "3.4." not in _run([etcd, "--version"], check=False).stdout:
            cmd += ["--unsafe-no-fsync"]  # throwaway data; 3.5+ only
        self._spawn("etcd", cmd)

        def healthy():
            with urllib.request.urlopen(f"http://127.0.0.1:{c}/health", timeout=3) as r:
                return json.loads(r.read()).get("health") == "true"

        self._wait("etcd", healthy, component="etcd")

    def _start_apiserver(self):
        ports, pki = self.state["ports"], self.pki
        self._spawn(
            "kube-apiserver",
            [
                self.bin_dir / "kube-apiserver",
                f"--etcd-servers=http://127.0.0.1:{ports['etcd_client']}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports['apiserver']}",
                f"--cert-dir={self.run_dir / 'apiserver'}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--requestheader-client-ca-file={pki / 'ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                # 127.0.0.1 cannot be an Endpoints address of the kubernetes Service
                "--endpoint-reconciler-type=none",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--api-audiences=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC",  # admin is in system:masters
                "--allow-privileged=true",
                "--storage-backend=etcd3",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait(
            "kube-apiserver /readyz",
            lambda: self._https_ok(ports["apiserver"], "/readyz", True),
            component="kube-apiserver",
        )

    def _start_controller_manager(self):
        ports, pki = self.state["ports"], self.pki
        self._spawn(
            "kube-controller-manager",
            [
                self.bin_dir / "kube-controller-manager",
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports['controller_manager']}",
                f"--cert-dir={self.run_dir / 'controller-manager'}",
                "--controllers=*",
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait(
            "kube-controller-manager /healthz",
            lambda: self._https_ok(ports["controller_manager"], "/healthz", False),
            component="kube-controller-manager",
        )

    def _start_scheduler(self):
        ports = self.state["ports"]
        self._spawn(
            "kube-scheduler",
            [
                self.bin_dir / "kube-scheduler",
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports['scheduler']}",
                f"--cert-dir={self.run_dir / 'scheduler'}",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait(
            "kube-scheduler /healthz",
            lambda: self._https_ok(ports["scheduler"], "/healthz", False),
            component="kube-scheduler",
        )

    def _start_kwok(self):
        port = self.state["ports"]["kwok"]
        self._spawn(
            "kwok",
            [
                self.bin_dir / "kwok",
                f"--kubeconfig={self.kubeconfig}",
                f"--config={KWOK_CONFIG}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--node-lease-duration-seconds=40",
                f"--cidr={POD_CIDR}",
                "--node-ip=127.0.0.1",
                f"--server-address=127.0.0.1:{port}",
            ],
        )

        def healthy():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as r:
                return r.status == 200

        self._wait("kwok /healthz", healthy, component="kwok")

    def _apply(self, docs: list[dict]):
        self.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))

    def _create_nodes(self):
        nodes = []
        version = self.server_version()
        for zone in self.zones:
            for i in range(1, self.nodes_per_zone + 1):
                name = f"kwok-{zone}-{i}"
                res = {"cpu": self.node_cpu, "memory": self.node_memory, "pods": self.node_pods}
                nodes.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {
                            "name": name,
                            "annotations": {
                                "kwok.x-k8s.io/node": "fake",
                                "node.alpha.kubernetes.io/ttl": "0",
                            },
                            "labels": {
                                "type": "kwok",
                                "kubernetes.io/hostname": name,
                                "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64",
                                "kubernetes.io/role": "agent",
                                "node-role.kubernetes.io/agent": "",
                                "topology.kubernetes.io/zone": zone,
                                "topology.kubernetes.io/region": "local",
                            },
                        },
                        "status": {
                            "capacity": res,
                            "allocatable": res,
                            "nodeInfo": {
                                "architecture": "amd64",
                                "operatingSystem": "linux",
                                "kubeletVersion": version,
                                "kubeProxyVersion": "",
                                "containerRuntimeVersion": "kwok://" + "fake",
                                "kernelVersion": "kwok",
                                "osImage": "kwok",
                                "machineID": name,
                                "systemUUID": name,
                                "bootID": "",
                            },
                        },
                    }
                )
        # `create` (not apply) keeps .status on Node creation.
        self.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes}))

    def server_version(self) -> str:
        out = self.kubectl("version", "-o", "json", check=False).stdout
        try:
            return json.loads(out)["serverVersion"]["gitVersion"]
        except Exception:  # noqa: BLE001
            return "v0.0.0"

    # Storage: no provisioner exists, so a default StorageClass with
    # kubernetes.io/no-provisioner + WaitForFirstConsumer and static hostPath
    # PVs. Each PV has zone nodeAffinity (round-robin over zones), like zonal
    # cloud disks: the scheduler's VolumeBinding plugin picks a PV in the
    # zone of the node it chose, and a rescheduled pod stays in that zone.
    def _create_storage(self):
        docs = [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "WaitForFirstConsumer",
                "reclaimPolicy": "Retain",
            }
        ]
        for i in range(self.pv_count):
            zone = self.zones[i % len(self.zones)]
            pv = {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "name": f"pv-{i:03d}",
                    "labels": {"type": "kwok", "topology.kubernetes.io/zone": zone},
                },
                "spec": {
                    "capacity": {"storage": self.pv_size},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": STORAGE_CLASS,
                    "hostPath": {"path": f"/var/lib/kwok-pv/pv-{i:03d}", "type": ""},
                },
            }
            if self.pv_zonal:
                pv["spec"]["nodeAffinity"] = {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}
                                ]
                            }
                        ]
                    }
                }
            docs.append(pv)
        self._apply(docs)

    def _wait_nodes_ready(self):
        want = set(self.node_names)

        def ready():
            items = json.loads(self.kubectl("get", "nodes", "-o", "json").stdout)["items"]
            ok = set()
            for n in items:
                conds = {c["type"]: c["status"] for c in n.get("status", {}).get("conditions", [])}
                taints = [t["key"] for t in n.get("spec", {}).get("taints", []) or []]
                if conds.get("Ready") == "True" and not any("not-ready" in t for t in taints):
                    ok.add(n["metadata"]["name"])
            return want <= ok

        self._wait("nodes Ready", ready, component="kwok")

    def _wait_default_serviceaccount(self):
        self._wait(
            "default ServiceAccount",
            lambda: self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0,
            component="kube-controller-manager",
        )

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        """Kill every process group we started. Idempotent."""
        # Only processes whose command line is still the one we started (a
        # stale state file must not make us kill a recycled pid).
        procs = {n: p for n, p in self.state.get("procs", {}).items() if _is_ours(p)}
        # Reverse start order: kwok/scheduler/cm first, etcd last.
        for name in reversed(list(procs)):
            pgid = procs[name]["pgid"]
            try:
                os.killpg(pgid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + 10
        for name in reversed(list(procs)):
            pid, pgid = procs[name]["pid"], procs[name]["pgid"]
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            while _alive(pid) and time.monotonic() < deadline + 5:
                time.sleep(0.05)
        if self.state:
            self.state["procs"] = {}
            if self.run_dir.exists():
                self._save()

    # ----------------------------------------------------------- diagnostics
    def diagnostics(self, lines: int = 25) -> str:
        out = []
        for name in COMPONENTS:
            path = self.log_dir / f"{name}.log"
            if path.exists():
                proc = self.state.get("procs", {}).get(name)
                status = "running" if proc and _alive(proc["pid"]) else "NOT running"
                out.append(f"----- {name} ({status}) {path} -----\n{_tail(path, lines)}")
        return "\n".join(out)

    def status(self) -> dict:
        return {
            "run_dir": str(self.run_dir),
            "kubeconfig": str(self.kubeconfig),
            "running": self.is_running(),
            "ports": self.state.get("ports", {}),
            "procs": {k: {"pid": v["pid"], "alive": _alive(v["pid"])} for k, v in self.state.get("procs", {}).items()},
            "timings": self.state.get("timings", {}),
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["start", "stop", "env", "status"])
    ap.add_argument("--run-dir", default=str(DEFAULT_RUN_DIR))
    ap.add_argument("--bin-dir", default=str(DEFAULT_BIN))
    ap.add_argument("--pvs", type=int, default=24, help="number of static PVs (round-robin over zones)")
    ap.add_argument("--pv-size", default="20Gi")
    ap.add_argument("--no-pv-zones", action="store_true", help="PVs without zone nodeAffinity")
    args = ap.parse_args(argv)
    cp = ControlPlane(
        args.run_dir, args.bin_dir, pv_count=args.pvs, pv_size=args.pv_size, pv_zonal=not args.no_pv_zones
    )
    if args.command == "start":
        try:
            cp.start()
        except ControlPlaneError as e:
            print(f"control plane failed to start: {e}", file=sys.stderr)
            return 1
        t = cp.state.get("timings", {})
        print(f"control plane up in {t.get('total', '?')}s; kubeconfig: {cp.kubeconfig}", file=sys.stderr)
        print(f'eval "$({sys.executable} {Path(__file__).resolve()} env --run-dir {cp.run_dir})"', file=sys.stderr)
    elif args.command == "stop":
        cp.stop()
    elif args.command == "env":
        env = cp.env()
        for k in ("KUBECONFIG", "PATH", "HELM_PLUGINS", "HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            if k in env:
                print(f"export {k}={json.dumps(env[k])}")
    elif args.command == "status":
        st = cp.status()
        print(json.dumps(st, indent=2))
        return 0 if st["running"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
