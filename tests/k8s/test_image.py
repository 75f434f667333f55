"""The image recipe (Dockerfile) without a container engine: its runtime stage must install
exactly the Debian packages that hold the shared libraries the built binaries load, and the
chart must only run programs the image contains.

Needs a build of the services (SHOAL_BUILD_DIR, default build/)."""
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SHOAL_BUILD_DIR", ROOT / "build"))
BINARIES = {
    "shoal-router": BUILD / "services/router/shoal-router",
    "shoal-metadata": BUILD / "services/metadata/shoal-metadata",
    "shoal-storage-node": BUILD / "services/storage-node/shoal-storage-node",
    "shoal-autoscaler": BUILD / "services/autoscaler/shoal-autoscaler",
    "shoalctl": BUILD / "services/shoalctl/shoalctl",
}
# In every debian:bookworm-slim image (essential or required by apt itself).
BASE = {"libc6", "libgcc-s1", "libstdc++6"}
# Installed for what they are, not for a library: the NATS server the chart runs from this
# image, and CA roots.
NOT_LIBRARIES = {"nats-server", "ca-certificates"}


def dockerfile_stage(name):
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)
    for s in stages:
        if re.match(rf"\S+ AS {name}\b", s):
            return s
    raise AssertionError(f"no stage {name} in Dockerfile")


def runtime_packages():
    stage = dockerfile_stage("runtime")
    m = re.search(r"apt-get install (.*?)&& rm -rf", stage, flags=re.S)
    assert m, "runtime stage installs no packages"
    words = m.group(1).replace("\\\n", " ").split()
    return {w for w in words if not w.startswith("-")}


def package_of(path):
    for p in {path, re.sub(r"^/usr/lib/", "/lib/", path), re.sub(r"^/lib/", "/usr/lib/", path)}:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    raise AssertionError(f"no Debian package holds {path}")


def needed_packages():
    pkgs = {}
    for name, binary in BINARIES.items():
        if not binary.exists():
            pytest.fail(f"{binary} is not built (make build, or set SHOAL_BUILD_DIR)")
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
        assert "not found" not in out, out
        for lib, path in re.findall(r"^\s*(\S+) => (/\S+)", out, flags=re.M):
            pkgs.setdefault(package_of(path), set()).add(f"{name}: {lib}")
    return pkgs


def test_runtime_stage_installs_every_library_the_binaries_load():
    have = runtime_packages()
    needed = needed_packages()
    missing = {p: sorted(w) for p, w in needed.items() if p not in have and p not in BASE}
    assert not missing, f"add to the Dockerfile runtime stage: {missing}"


def test_runtime_stage_installs_nothing_unneeded():
    have = runtime_packages()
    needed = set(needed_packages())
    extra = have - needed - NOT_LIBRARIES
    assert not extra, f"the runtime stage installs packages no binary loads: {sorted(extra)}"


def test_image_runs_as_non_root_and_copies_the_three_programs():
    stage = dockerfile_stage("runtime")
    assert re.search(r"^USER 10001:10001$", stage, flags=re.M)
    build = dockerfile_stage("build")
    for name in BINARIES:
        assert f"/out/{name}" in build, f"build stage does not install {name}"


def test_chart_runs_only_programs_the_image_has():
    programs = set(BINARIES) | {"nats-server"}
    used = set()
    for t in (ROOT / "charts/shoal/templates").glob("*.yaml"):
        used |= set(re.findall(r'command: \["([^"]+)"', t.read_text()))
    assert used, "no command: in the chart's templates"
    assert used <= programs, f"chart runs programs the image lacks: {used - programs}"


def test_project_version_is_the_charts_app_version():
    cmake = re.search(r"project\(shoal VERSION (\S+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
    chart = re.search(r'^appVersion: "(.*)"', (ROOT / "charts/shoal/Chart.yaml").read_text(), re.M).group(1)
    assert cmake == chart, "the image tag the chart defaults to is the version the binaries report"
