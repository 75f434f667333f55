"""Fixtures for tests against a real control plane with KWOK nodes.

Fixtures:
  k8s_tools      (session) builds/validates the cached tools via scripts/k8s-tools.sh;
                 skips (with the build output tail) only if they cannot be built,
                 or fails instead when K8S_REQUIRE=1.
  control_plane  (session) a started ControlPlane. Reuses one already running in
                 K8S_RUN_DIR (started with `controlplane.py start`) and then leaves
                 it running; otherwise starts a fresh one in .run/k8s-pytest and
                 stops it at the end.
  kube           (session) a Kube (kubectl/helm wrappers) bound to it.
  namespace      (function) a fresh namespace, deleted afterwards.
  k8s_timings    (session) dict; entries are printed in the terminal summary.

Env: K8S_REQUIRE=1 (never skip), K8S_TOOLS_BUILD=0 (don't build, only check),
     K8S_RUN_DIR (reuse a control plane running there), K8S_KEEP=1 (leave ours
     running after the session), K8S_PV_COUNT / K8S_PV_SIZE (default 24 / 20Gi).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from controlplane import REPO, ControlPlane  # noqa: E402
from kube import Kube  # noqa: E402

TOOLS_SCRIPT = REPO / "scripts" / "k8s-tools.sh"
_TIMINGS: dict[str, float] = {}


def _unavailable(reason: str):
    if os.environ.get("K8S_REQUIRE") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def k8s_timings():
    return _TIMINGS


@pytest.fixture(scope="session")
def k8s_tools():
    cmd = ["bash", str(TOOLS_SCRIPT), "check" if os.environ.get("K8S_TOOLS_BUILD") == "0" else "build"]
    t0 = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    _TIMINGS["k8s-tools.sh"] = round(time.monotonic() - t0, 2)
    if res.returncode != 0:
        tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-15:])
        _unavailable(f"k8s tools could not be built ({' '.join(cmd)} exited {res.returncode}):\n{tail}")
    env = {}
    for line in subprocess.run(["bash", str(TOOLS_SCRIPT), "env"], capture_output=True, text=True).stdout.splitlines():
        k, _, v = line.removeprefix("export ").partition("=")
        env[k] = v.strip('"')
    return env


@pytest.fixture(scope="session")
def control_plane(k8s_tools):
    explicit = "K8S_RUN_DIR" in os.environ
    run_dir = Path(os.environ.get("K8S_RUN_DIR", REPO / ".run" / "k8s-pytest"))
    cp = ControlPlane(
        run_dir,
        pv_count=int(os.environ.get("K8S_PV_COUNT", "24")),
        pv_size=os.environ.get("K8S_PV_SIZE", "20Gi"),
    )
    if explicit and cp.is_running():
        _TIMINGS["control plane start (reused)"] = 0.0
        yield cp
        return
    cp.stop()  # leftovers of an interrupted session in our own run dir
    t0 = time.monotonic()
    cp.start()  # raises ControlPlaneError with component log tails
    _TIMINGS["control plane start"] = round(time.monotonic() - t0, 2)
    try:
        yield cp
    finally:
        if os.environ.get("K8S_KEEP") != "1":
            cp.stop()


@pytest.fixture(scope="session")
def kube(control_plane) -> Kube:
    return Kube.for_control_plane(control_plane)


@pytest.fixture
def namespace(kube):
    name = f"t-{uuid.uuid4().hex[:8]}"
    kube.create_namespace(name)
    yield name
    kube.delete_namespace(name, wait=False)


def pytest_terminal_summary(terminalreporter):
    if _TIMINGS:
        terminalreporter.section("k8s harness timings (s)")
        for k, v in _TIMINGS.items():
            terminalreporter.write_line(f"{k:40s} {v:8.2f}")
