"""Checks Shoal's Grafana dashboards (charts/shoal/dashboards/*.json) against a live fleet.

Starts a local fleet (scripts/fleet.sh, on its own ports) and a real Prometheus scraping it
every second (scripts/prometheus.sh, TSDB in a temporary directory), runs a DynamoDB workload
with boto3 (a provisioned and a PAY_PER_REQUEST table; puts, gets, queries, scans, updates,
batches, conditional-check failures and a missing table, so error series exist), then asks
Prometheus for every panel expression and every variable query of every dashboard:

  - each expression parses (the query API answers status "success");
  - each returns a non-empty result (expressions that may be legitimately empty on a healthy
    fleet are written to return 0 instead, so empty means a wrong name, label or join);
  - each variable query (label_values) returns values;
  - every metric name an expression uses is exposed by some service's /metrics (a typo
    would otherwise only show up as an empty panel).

The JSON structure (unique ids, the ${datasource} variable on every panel and target, grid
positions, titles, descriptions, units, refIds, defined variables) and that the JSON files
match tests/dashboards/generate.py are checked without a fleet.

    SHOAL_BUILD_DIR=build python3 -m pytest -q tests/dashboards

Settings (environment): SHOAL_BUILD_DIR (build), DASHBOARDS_KEEP_RUN=1 keeps the fleet's
logs and data in .run/dashboards. A summary of every expression's result is written to
.run/dashboards/report.json.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DASHBOARD_DIR = os.path.join(ROOT, "charts", "shoal", "dashboards")
DASHBOARD_FILES = sorted(f for f in os.listdir(DASHBOARD_DIR) if f.endswith(".json")) \
    if os.path.isdir(DASHBOARD_DIR) else []

RUN_DIR = os.path.join(ROOT, ".run", "dashboards")
NATS_PORT, PORT, ADMIN_BASE = 15322, 18950, 20300
DS_UID = "${datasource}"

# Values for Grafana's built-in variables when an expression is sent to Prometheus directly.
# The workload runs within the last minute, so rate windows of a minute cover it.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}
# Series Prometheus makes itself for every target (not on any /metrics page).
SYNTHETIC_METRICS = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
                "or", "unless", "offset", "atan2", "inf", "nan"}
VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")


# -- dashboard model helpers -------------------------------------------------------------------

def load(name):
    with open(os.path.join(DASHBOARD_DIR, name), encoding="utf-8") as f:
        return json.load(f)


def all_panels(dash):
    """Panels, including those nested in collapsed rows."""
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


def variables(dash):
    return dash.get("templating", {}).get("list", [])


def variable_query(var):
    q = var.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or var.get("definition", ""))


def substitute(expr, var_names):
    """Replaces Grafana variables with values for a direct Prometheus query: built-ins as in
    BUILTINS, dashboard variables (regex-matched, All = .*) as .*. Returns (expr, unknown)."""
    unknown = []

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in var_names:
            return ".*"
        unknown.append(name)
        return m.group(0)

    return VAR_RE.sub(repl, expr), unknown


def metric_names(expr):
    """Metric names used in a PromQL expression (names not followed by a call parenthesis,
    outside label matchers, ranges, strings and grouping clauses)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"`[^`]*`", "``", s)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", s):
        if m.group(2) or m.group(1).lower() in PROMQL_WORDS:
            continue
        names.add(m.group(1))
    return names


def expressions():
    """(dashboard file, panel title, refId, expr) of every panel target."""
    out = []
    for name in DASHBOARD_FILES:
        for p in all_panels(load(name)):
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((name, p.get("title", "?"), t.get("refId", "?"), t["expr"]))
    return out


# -- structure (no fleet) ----------------------------------------------------------------------

def test_dashboards_exist():
    expected = {"shoal-overview.json", "shoal-partitions.json", "shoal-replication.json",
                "shoal-capacity.json"}
    assert expected <= set(DASHBOARD_FILES), f"missing: {expected - set(DASHBOARD_FILES)}"


def test_json_matches_generator():
    r = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + "\n(edit tests/dashboards/generate.py and run it)"


@pytest.mark.parametrize("name", DASHBOARD_FILES)
def test_dashboard_structure(name):
    dash = load(name)
    problems = []
    for key in ("uid", "title", "schemaVersion", "panels", "templating"):
        if key not in dash:
            problems.append(f"no top-level {key}")
    if not 36 <= dash.get("schemaVersion", 0) <= 41:
        problems.append(f"schemaVersion {dash.get('schemaVersion')} (expected ~39)")
    if dash.get("id") is not None:
        problems.append("id must be null so the dashboard imports anywhere")

    var_list = variables(dash)
    var_names = {v.get("name") for v in var_list}
    ds = [v for v in var_list if v.get("name") == "datasource"]
    if not ds or ds[0].get("type") != "datasource" or ds[0].get("query") != "prometheus":
        problems.append("no templating variable `datasource` of type datasource, query prometheus")
    for v in var_list:
        if v.get("type") == "query":
            if v.get("datasource", {}).get("uid") != DS_UID:
                problems.append(f"variable {v.get('name')}: datasource is not {DS_UID}")
            if not variable_query(v):
                problems.append(f"variable {v.get('name')}: no query")
            if v.get("includeAll") and v.get("allValue") != ".*":
                problems.append(f"variable {v.get('name')}: All should be .* (regex matchers)")

    ids = [p.get("id") for p in all_panels(dash)]
    dupes = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    if dupes:
        problems.append(f"duplicate panel ids {dupes}")
    cells = {}
    for p in all_panels(dash):
        where = f"panel {p.get('id')} {p.get('title')!r}"
        if p.get("type") == "row":
            continue
        if not p.get("title"):
            problems.append(f"{where}: no title")
        if not p.get("description"):
            problems.append(f"{where}: no description")
        if p.get("datasource") != {"type": "prometheus", "uid": DS_UID}:
            problems.append(f"{where}: datasource {p.get('datasource')} is not {DS_UID}")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{where}: no unit")
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in ("x", "y", "w", "h")):
            problems.append(f"{where}: gridPos {g} incomplete")
        else:
            if g["w"] < 1 or g["h"] < 1 or g["x"] < 0 or g["x"] + g["w"] > 24:
                problems.append(f"{where}: gridPos {g} outside the 24-column grid")
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        problems.append(f"{where}: overlaps panel {cells[(x, y)]}")
                        break
                    cells[(x, y)] = p.get("id")
                else:
                    continue
                break
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if not all(refs) or len(set(refs)) != len(refs):
            problems.append(f"{where}: targets need distinct refIds, got {refs}")
        for t in targets:
            if t.get("datasource", {}).get("uid") != DS_UID:
                problems.append(f"{where} {t.get('refId')}: target datasource is not {DS_UID}")
            if not t.get("expr", "").strip():
                problems.append(f"{where} {t.get('refId')}: empty expr")
            _, unknown = substitute(t.get("expr", ""), var_names)
            if unknown:
                problems.append(f"{where} {t.get('refId')}: undefined variables {unknown}")
            for m in re.finditer(r'(\w+)\s*(=|!=)\s*"[^"]*\$', t.get("expr", "")):
                problems.append(f"{where} {t.get('refId')}: variable in `{m.group(0)}`: "
                                "multi-value variables need =~")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_dashboard_uids_unique():
    uids = [load(n).get("uid") for n in DASHBOARD_FILES]
    assert len(set(uids)) == len(uids), uids


def test_metric_name_extraction():
    assert metric_names('histogram_quantile(0.99, sum by (le, op) (rate(a_bucket{op=~"x|y"}[1m])))') \
        == {"a_bucket"}
    assert metric_names("(sum(rate(b[5m])) or on() vector(0)) / c * 1e-9 offset 5m") == {"b", "c"}
    assert metric_names("x * on (job, instance) group_left (service) max by (job) (y)") == {"x", "y"}


# -- against a live fleet ----------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def prom_query(base, expr, at):
    data = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"}).encode()
    try:
        with urllib.request.urlopen(f"{base}/api/v1/query", data=data, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:  # 400/422: a parse or evaluation error, with a body
        try:
            return json.loads(e.read())
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}


def prom_label_values(base, label, selector):
    q = urllib.parse.urlencode({"match[]": selector})
    try:
        return json.loads(http_get(f"{base}/api/v1/label/{label}/values?{q}"))
    except urllib.error.HTTPError as e:
        try:
            return json.loads(e.read())
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}


class Stack:
    """The fleet, Prometheus, and the admin endpoints it scrapes."""

    def __init__(self):
        self.build = os.path.abspath(os.environ.get("SHOAL_BUILD_DIR", os.path.join(ROOT, "build")))
        self.prom_port = free_port()
        self.prom_dir = tempfile.mkdtemp(prefix="shoal-prometheus-")
        self.prom = f"http://127.0.0.1:{self.prom_port}"
        self.env = dict(os.environ, SHOAL_RUN_DIR=RUN_DIR, SHOAL_BUILD_DIR=self.build,
                        SHOAL_NATS_PORT=str(NATS_PORT), SHOAL_PORT=str(PORT),
                        SHOAL_ADMIN_BASE=str(ADMIN_BASE), SHOAL_PROMETHEUS_PORT=str(self.prom_port),
                        SHOAL_PROMETHEUS_DIR=self.prom_dir, SHOAL_SCRAPE_INTERVAL="1s")

    def script(self, name, *args, check=True, timeout=180):
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", name), *args], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
                               f"\n{self.log_tails()}")
        return r

    def log_tails(self):
        out = []
        for d in (os.path.join(RUN_DIR, "logs"), self.prom_dir):
            if not os.path.isdir(d):
                continue
            for f in sorted(os.listdir(d)):
                if f.endswith(".log"):
                    with open(os.path.join(d, f), errors="replace") as fh:
                        out.append(f"--- {f}\n" + "".join(fh.readlines()[-15:]))
        return "\n".join(out)

    def admin_endpoints(self):
        eps = [f"127.0.0.1:{ADMIN_BASE}", f"127.0.0.1:{ADMIN_BASE + 1}", f"127.0.0.1:{ADMIN_BASE + 2}"]
        with open(os.path.join(RUN_DIR, "endpoints.env")) as f:
            eps += [line.strip().split("=", 1)[1] for line in f if line.startswith("STORAGE_ADMIN_")]
        return sorted(set(eps))

    def start(self):
        for b in ("router/shoal-router", "metadata/shoal-metadata", "storage-node/shoal-storage-node"):
            if not os.access(os.path.join(self.build, "services", b), os.X_OK):
                pytest.fail(f"{self.build}/services/{b} missing: build first or set SHOAL_BUILD_DIR")
        self.script("fleet.sh", "stop", check=False)
        shutil.rmtree(RUN_DIR, ignore_errors=True)
        self.script("fleet.sh", "start")
        self.script("prometheus.sh", "start")

    def stop(self):
        try:
            self.script("prometheus.sh", "stop", check=False, timeout=60)
        finally:
            self.script("fleet.sh", "stop", check=False, timeout=120)
            shutil.rmtree(self.prom_dir, ignore_errors=True)
            if os.environ.get("DASHBOARDS_KEEP_RUN") != "1":
                for sub in ("data", "pids"):
                    shutil.rmtree(os.path.join(RUN_DIR, sub), ignore_errors=True)

    def wait_targets_up(self, timeout=30):
        deadline = time.time() + timeout
        want = len(self.admin_endpoints())
        while True:
            r = prom_query(self.prom, "count(up == 1)", time.time())
            res = r.get("data", {}).get("result", [])
            if res and int(float(res[0]["value"][1])) >= want:
                return
            if time.time() > deadline:
                raise RuntimeError(f"Prometheus does not see all {want} targets up: {r}\n"
                                   + http_get(f"{self.prom}/api/v1/targets"))
            time.sleep(0.5)


def run_workload(url):
    import boto3
    from botocore.config import Config

    ddb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="shoal", aws_secret_access_key="shoal-secret",
                       config=Config(retries={"max_attempts": 1}, read_timeout=30))
    schema = dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                        {"AttributeName": "sk", "AttributeType": "N"}],
                  KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                             {"AttributeName": "sk", "KeyType": "RANGE"}])
    tables = ["dash-provisioned", "dash-ondemand"]
    ddb.create_table(TableName=tables[0], BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 20, "WriteCapacityUnits": 10}, **schema)
    ddb.create_table(TableName=tables[1], BillingMode="PAY_PER_REQUEST", **schema)
    for t in tables:
        ddb.get_waiter("table_exists").wait(TableName=t, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300})
    # Three rounds a second or more apart, so every counter is scraped several times.
    for rnd in range(3):
        for t in tables:
            for i in range(20):
                ddb.put_item(TableName=t, Item={"pk": {"S": f"p{i % 5}"}, "sk": {"N": str(rnd * 100 + i)},
                                                "v": {"S": "x" * (50 * i)}},
                             ReturnConsumedCapacity="TOTAL")
            for i in range(5):
                ddb.get_item(TableName=t, Key={"pk": {"S": f"p{i}"}, "sk": {"N": str(rnd * 100 + i)}},
                             ConsistentRead=bool(i % 2))
                ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": f"p{i}"}})
            ddb.scan(TableName=t)
            ddb.update_item(TableName=t, Key={"pk": {"S": "p0"}, "sk": {"N": str(rnd * 100)}},
                            UpdateExpression="SET n = if_not_exists(n, :z) + :one",
                            ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}})
            ddb.batch_write_item(RequestItems={t: [
                {"PutRequest": {"Item": {"pk": {"S": "batch"}, "sk": {"N": str(rnd * 10 + j)}}}}
                for j in range(5)]})
            ddb.batch_get_item(RequestItems={t: {"Keys": [
                {"pk": {"S": "batch"}, "sk": {"N": str(rnd * 10 + j)}} for j in range(5)]}})
            ddb.delete_item(TableName=t, Key={"pk": {"S": "batch"}, "sk": {"N": str(rnd * 10)}})
            for i in range(3):  # ConditionalCheckFailedException
                try:
                    ddb.put_item(TableName=t, Item={"pk": {"S": "p0"}, "sk": {"N": str(rnd * 100)}},
                                 ConditionExpression="attribute_not_exists(pk)")
                    raise AssertionError("conditional put on an existing item succeeded")
                except ddb.exceptions.ConditionalCheckFailedException:
                    pass
            ddb.describe_table(TableName=t)
        ddb.list_tables()
        try:  # ResourceNotFoundException
            ddb.get_item(TableName="dash-missing", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
        except ddb.exceptions.ResourceNotFoundException:
            pass
        time.sleep(1.2)


@pytest.fixture(scope="module")
def stack():
    s = Stack()
    try:
        s.start()
        s.wait_targets_up()
        run_workload(f"http://127.0.0.1:{PORT}")
        # Series first created late in the workload need two scrapes before rate() sees them.
        time.sleep(4)
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def results(stack):
    """Every expression and variable query evaluated at one instant; also written to
    .run/dashboards/report.json."""
    at = time.time()
    exprs = []
    for name, title, ref, expr in expressions():
        var_names = {v.get("name") for v in variables(load(name))}
        query, _ = substitute(expr, var_names)
        r = prom_query(stack.prom, query, at)
        series = r.get("data", {}).get("result", []) if r.get("status") == "success" else []
        exprs.append({"dashboard": name, "panel": title, "refId": ref, "expr": expr, "query": query,
                      "status": r.get("status"), "error": r.get("error"),
                      "series": len(series) if r.get("status") == "success" else None,
                      "sample": [{"labels": x.get("metric"), "value": x.get("value", [0, None])[1]}
                                 for x in series[:3]]})
    var_results = []
    for name in DASHBOARD_FILES:
        dash = load(name)
        var_names = {v.get("name") for v in variables(dash)}
        for v in variables(dash):
            if v.get("type") != "query":
                continue
            q, _ = substitute(variable_query(v), var_names)
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q)
            entry = {"dashboard": name, "variable": v["name"], "query": variable_query(v)}
            if not m:
                entry.update(status="error", error="not a label_values(selector, label) query", values=[])
            else:
                r = prom_label_values(stack.prom, m.group(2), m.group(1))
                entry.update(status=r.get("status"), error=r.get("error"), values=r.get("data") or [])
            var_results.append(entry)
    exposed = set()
    for ep in stack.admin_endpoints():
        for line in http_get(f"http://{ep}/metrics").splitlines():
            if line and not line.startswith("#"):
                exposed.add(re.split(r"[{\s]", line, 1)[0])
    report = {"expressions": exprs, "variables": var_results, "exposed_metrics": sorted(exposed)}
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(os.path.join(RUN_DIR, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    return report


def describe(e):
    return f"{e['dashboard']} / {e['panel']!r} [{e['refId']}]: {e['expr']}"


def test_expressions_parse(results):
    bad = [f"{describe(e)}\n    error: {e['error']}" for e in results["expressions"]
           if e["status"] != "success"]
    assert not bad, f"{len(bad)} expressions fail in Prometheus:\n" + "\n".join(bad)


def test_expressions_return_data(results):
    empty = [describe(e) for e in results["expressions"] if e["status"] == "success" and not e["series"]]
    assert not empty, (f"{len(empty)} of {len(results['expressions'])} expressions return no data:\n"
                       + "\n".join(empty))


def test_variable_queries_return_values(results):
    bad = [f"{v['dashboard']} ${v['variable']}: {v['query']} -> "
           f"{v['error'] or 'no values'}" for v in results["variables"]
           if v["status"] != "success" or not v["values"]]
    assert not bad, "variable queries without values:\n" + "\n".join(bad)


def test_metric_names_exposed(results):
    exposed = set(results["exposed_metrics"]) | SYNTHETIC_METRICS
    missing = {}
    uses = [(describe(e), e["expr"]) for e in results["expressions"]]
    for v in results["variables"]:  # label_values(SELECTOR, label): the selector's metric
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", v["query"])
        uses.append((f"{v['dashboard']} ${v['variable']}: {v['query']}", m.group(1) if m else v["query"]))
    for where, expr in uses:
        for name in metric_names(expr) - exposed:
            missing.setdefault(name, []).append(where)
    assert not missing, "metrics no service exposes on /metrics:\n" + "\n".join(
        f"{name} (used {len(w)}x, e.g. {w[0]})" for name, w in sorted(missing.items()))
