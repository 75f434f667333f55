"""Prove the KWOK control-plane harness with a throwaway Helm chart.

A StatefulSet per zone (2 replicas, zone nodeAffinity, preferred hostname
anti-affinity, a volumeClaimTemplate) with a PDB maxUnavailable=1 each, and a
Deployment spread over zones. Then: cordon a zone, evict one pod (allowed),
its replacement stays Pending, and draining the zone's other node is refused
by the disruption budget.
"""

from __future__ import annotations

import time

from kube import HOSTNAME_LABEL, ZONE_LABEL, check_zone_drain_blocked_by_pdb

ZONES = ["zone-a", "zone-b", "zone-c"]

CHART_YAML = """\
apiVersion: v2
name: harness-sample
version: 0.1.0
kubeVersion: ">=1.30.0-0"
"""

VALUES_YAML = """\
zones: [zone-a, zone-b, zone-c]
replicas: 2
storage: 1Gi
web:
  replicas: 3
"""

STATEFULSETS = """\
{{- range $zone := .Values.zones }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $.Release.Name }}-db-{{ $zone }}
spec:
  clusterIP: None
  selector: {app: {{ $.Release.Name }}-db, zone: {{ $zone }}}
  ports: [{name: db, port: 8000}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $.Release.Name }}-db-{{ $zone }}
spec:
  serviceName: {{ $.Release.Name }}-db-{{ $zone }}
  replicas: {{ $.Values.replicas }}
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: {{ $.Release.Name }}-db, zone: {{ $zone }}}
  template:
    metadata:
      labels: {app: {{ $.Release.Name }}-db, zone: {{ $zone }}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: topology.kubernetes.io/zone, operator: In, values: [{{ $zone }}]}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels: {app: {{ $.Release.Name }}-db, zone: {{ $zone }}}
      containers:
        - name: db
          image: registry.invalid/harness-sample:0
          resources: {requests: {cpu: 100m, memory: 128Mi}}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: {{ $.Values.storage }}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $.Release.Name }}-db-{{ $zone }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: {{ $.Release.Name }}-db, zone: {{ $zone }}}
{{- end }}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels: {app: {{ .Release.Name }}-web}
      containers:
        - name: web
          image: registry.invalid/harness-sample:0
"""


def write_sample_chart(root):
    chart = root / "harness-sample"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES_YAML)
    (chart / "templates" / "db.yaml").write_text(STATEFULSETS)
    (chart / "templates" / "web.yaml").write_text(DEPLOYMENT)
    return chart


def test_cluster_shape(kube, control_plane):
    """Six Ready kwok nodes, two per zone; a default StorageClass; Available PVs."""
    nodes = kube.nodes("type=kwok")
    assert len(nodes) == 6
    by_zone: dict[str, list[str]] = {}
    for n in nodes:
        labels = n["metadata"]["labels"]
        assert labels[HOSTNAME_LABEL] == n["metadata"]["name"]
        by_zone.setdefault(labels[ZONE_LABEL], []).append(n["metadata"]["name"])
        assert n["status"]["capacity"]["cpu"] == "32"
        assert {c["type"]: c["status"] for c in n["status"]["conditions"]}["Ready"] == "True"
    assert {z: len(v) for z, v in by_zone.items()} == {z: 2 for z in ZONES}

    scs = kube.get("storageclass")
    default = [s for s in scs if s["metadata"].get("annotations", {}).get(
        "storageclass.kubernetes.io/is-default-class") == "true"]
    assert len(default) == 1
    pvs = kube.get("pv")
    assert len(pvs) >= control_plane.pv_count

    version = kube.kubectl_json("version")["serverVersion"]["gitVersion"]
    assert version.startswith("v1."), version


def test_helm_sample_chart_zones_and_pdb(kube, namespace, tmp_path, k8s_timings):
    chart = write_sample_chart(tmp_path)
    release = "hs"
    db_zone_a = f"app={release}-db,zone=zone-a"

    t0 = time.monotonic()
    kube.helm_install(release, chart, namespace=namespace, wait=True, timeout="3m")
    k8s_timings["helm install --wait (sample chart)"] = round(time.monotonic() - t0, 2)

    # Two db pods per zone, on distinct nodes of that zone, all Ready.
    by_zone = kube.pods_by_zone(namespace, f"app={release}-db")
    assert sorted(by_zone) == ZONES, kube.describe_namespace(namespace)
    for zone in ZONES:
        pods = by_zone[zone]
        assert len(pods) == 2 and all(p.ready for p in pods), pods
        assert len({p.node for p in pods}) == 2, f"{zone}: pods share a node: {pods}"
        assert {p.node for p in pods} == set(kube.nodes_in_zone(zone))
    # PVCs bound to PVs of the same zone.
    pvs = {pv["metadata"]["name"]: pv for pv in kube.get("pv")}
    for pvc in kube.get("pvc", namespace=namespace):
        assert pvc["status"]["phase"] == "Bound"
        zone = pvs[pvc["spec"]["volumeName"]]["metadata"]["labels"][ZONE_LABEL]
        assert zone in pvc["metadata"]["name"], (pvc["metadata"]["name"], zone)
    # The Deployment is spread one per zone.
    web = kube.pods_by_zone(namespace, f"app={release}-web")
    assert {z: len(p) for z, p in web.items()} == {z: 1 for z in ZONES}

    # Zone outage vs. PDB: cordon zone-a, evict one pod (allowed), its
    # replacement stays Pending, draining the other node is refused.
    try:
        res = check_zone_drain_blocked_by_pdb(
            kube, namespace, db_zone_a, "zone-a", pdb_name=f"{release}-db-zone-a", drain_timeout="20s",
            uncordon=False,  # inspect the degraded state first
        )
        print(f"kubectl drain {res.second_node} (expected to be blocked) exited {res.drain.returncode}:\n"
              f"{res.drain.stdout}{res.drain.stderr}")
        k8s_timings["evict + replacement Pending"] = res.timings["evict + replacement Pending"]
        k8s_timings["blocked kubectl drain (--timeout=20s)"] = res.timings["blocked drain"]
        assert res.eviction.allowed
        assert res.replacement.name == res.evicted.name  # same StatefulSet ordinal, unscheduled
        assert res.drain.returncode != 0 and "disruption budget" in res.drain.stderr
        sts = kube.get("statefulset", f"{release}-db-zone-a", namespace)
        assert sts["status"].get("readyReplicas", 0) == 1
        assert res.survivor.node == res.second_node and res.survivor.ready
        # Other zones were untouched.
        for zone in ("zone-b", "zone-c"):
            assert len([p for p in kube.pods_by_zone(namespace, f"app={release}-db")[zone] if p.ready]) == 2
    finally:
        kube.uncordon(*kube.nodes_in_zone("zone-a"))

    try:
        # Uncordoned: the pending replacement schedules back into zone-a.
        kube.wait_statefulset_ready(f"{release}-db-zone-a", namespace, timeout=120)
        assert {p.zone for p in kube.pods(namespace, db_zone_a)} == {"zone-a"}
    finally:
        kube.helm_uninstall(release, namespace)


def test_sample_chart_renders_offline(kube, tmp_path):
    """helm template/lint work with the built helm (no cluster access needed)."""
    chart = write_sample_chart(tmp_path)
    out = kube.helm_template("hs", chart, "default")
    assert out.count("kind: StatefulSet") == 3 and out.count("kind: PodDisruptionBudget") == 3
    kube.helm("lint", str(chart))
