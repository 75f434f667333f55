#!/usr/bin/env python3
"""Shoal against its DynamoDB-compatible peers, side by side in one run on this machine.

Every system gets the same load from the native driver (bench/driver, `shoal-bench`): the same
workloads, connections, item size and record count, one system at a time:

  start it -> CreateTable (wait ACTIVE) -> load phase (insert ids 0..N-1) ->
  workloads put, c, a, b, f (each --warmup s unmeasured + --duration s measured) -> stop.

Systems: `shoal` (the local fleet of scripts/fleet.sh: nats-server, metadata, three storage
nodes, router; 3 replicas per partition, on its own ports and run dir), `dynamodb-local`,
`dynalite`, `moto` (scripts/peers.sh: installed once under .cache/peers/, fastest documented
settings). A system that does not start is reported as such, with the reason.

Writes a Markdown section (throughput, p50/p95/p99/p99.9, errors, ratios to Shoal, the issue's
targets, the commands, the machine) between the bench-compare markers of BENCHMARKS.md and
prints it.

    python3 bench/compare.py [--build-dir build] [--duration 30] [--warmup 5] [--records 100000]
        [--connections 32] [--systems shoal,dynamodb-local,dynalite,moto]
        [--workloads put,c,a,b,f] [--no-write]
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BEGIN = "<!-- bench-compare:begin -->"
END = "<!-- bench-compare:end -->"
HEADING = "## Shoal vs peers (make bench-compare)"

ALL_SYSTEMS = ["shoal", "dynamodb-local", "dynalite", "moto", "shoal-noop"]
# Shoal fleets: the real one, and the ceiling (storage nodes answer without Raft or RocksDB).
SHOAL_SYSTEMS = {"shoal", "shoal-noop"}
NAMES = {"shoal": "Shoal (3 replicas)", "shoal-noop": "Shoal, no-op storage (ceiling)", "dynamodb-local": "DynamoDB Local",
         "dynalite": "dynalite", "moto": "moto"}
WORKLOADS = {
    "load": "load (PutItem of ids 0..N-1, once)",
    "put": "put: PutItem",
    "c": "c: GetItem",
    "a": "a: 50% GetItem / 50% UpdateItem",
    "b": "b: 95% GetItem / 5% UpdateItem",
    "f": "f: 50% GetItem / 50% read-modify-write",
}
PEER_PORTS = {"dynamodb-local": 18741, "dynalite": 18742, "moto": 18743}
SHOAL_ENV = {"SHOAL_RUN_DIR": os.path.join(ROOT, ".run", "bench-compare"),
             "SHOAL_NATS_PORT": "17622", "SHOAL_PORT": "18720", "SHOAL_ADMIN_BASE": "20600",
             "SHOAL_REPLICAS": "3", "SHOAL_LOG_LEVEL": "warn"}
# The targets for Shoal at 32 connections.
TARGET_RATIO = {"dynalite": 5.0, "dynamodb-local": 10.0}
TARGET_P99_MS = 10.0
TABLE = "usertable"


class StartFailed(Exception):
    pass


def sh(cmd, env=None, timeout=600):
    """Runs cmd; returns (rc, combined output)."""
    try:
        p = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return -1, out + f"\n(timed out after {timeout} s)"


def env_prefix(env):
    return " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())


def last_line(text, n=3):
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return " / ".join(lines[-n:]) if lines else "(no output)"


def start_reason(out):
    """The most telling line of a failed start: the first error-looking one, else the last."""
    lines = [l.strip() for l in out.strip().splitlines() if l.strip()]
    for key in ("eaddrinuse", "address already in use", "error", "exception", "missing", "already", "did not", "not found", "refused"):
        for l in lines:
            if key in l.lower() and not l.startswith("at "):
                return l[:200]
    return (lines[-1] if lines else "(no output)")[:200]


class System:
    def __init__(self, name, args, commands):
        self.name = name
        self.args = args
        self.commands = commands  # list of shell lines actually used (for the report)
        if name in SHOAL_SYSTEMS:
            self.env = {**SHOAL_ENV, "SHOAL_BUILD_DIR": args.build_dir,
                        "SHOAL_PARTITIONS": str(args.partitions)}
            if name == "shoal-noop":
                self.env["SHOAL_STORAGE_ARGS"] = "--noop-data"
            self.port = int(SHOAL_ENV["SHOAL_PORT"])
        else:
            self.env = {}
            self.port = PEER_PORTS[name]

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def _cmd(self, action):
        if self.name in SHOAL_SYSTEMS:
            return ["bash", "scripts/fleet.sh", action]
        return ["bash", "scripts/peers.sh", action, self.name, str(self.port)]

    def start(self):
        if self.name in SHOAL_SYSTEMS:
            # A fresh fleet: no data from an earlier run.
            sh(self._cmd("stop"), self.env, timeout=60)
            run_dir = self.env["SHOAL_RUN_DIR"]
            subprocess.run(["rm", "-rf", os.path.join(run_dir, "data")], check=False)
        else:
            sh(self._cmd("stop"), timeout=60)
        cmd = self._cmd("start")
        self.commands.append(f"{env_prefix(self.env) + ' ' if self.env else ''}{shlex.join(cmd)}")
        rc, out = sh(cmd, self.env, timeout=900)  # first start may install the peer
        if rc != 0:
            self.stop()
            raise StartFailed(start_reason(out))
        print(out.strip(), file=sys.stderr)

    def stop(self):
        sh(self._cmd("stop"), self.env, timeout=120)

    def version(self):
        if self.name in SHOAL_SYSTEMS:
            rc, rev = sh(["git", "rev-parse", "--short", "HEAD"], timeout=10)
            _, dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"], timeout=10)
            rev = rev.strip() if rc == 0 else "unknown"
            return f"Shoal {rev}{' (with local changes)' if dirty.strip() else ''}"
        rc, out = sh(["bash", "scripts/peers.sh", "version", self.name], timeout=30)
        return out.strip() if rc == 0 else f"{self.name} (version unknown)"


def create_table(system, args):
    """CreateTable + wait ACTIVE with boto3 (parses DescribeTable as JSON, which any
    server's spacing passes); falls back to the driver's --create-table without boto3."""
    try:
        import boto3  # noqa: PLC0415
        from botocore.config import Config  # noqa: PLC0415
    except ImportError:
        return False
    ddb = boto3.client("dynamodb", endpoint_url=system.endpoint, region_name="us-east-1",
                       aws_access_key_id="shoal", aws_secret_access_key="shoal-secret",
                       config=Config(retries={"max_attempts": 5}, read_timeout=30))
    try:
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    except ddb.exceptions.ResourceInUseException:
        pass
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE":
            return True
        time.sleep(0.1)
    raise RuntimeError(f"table {TABLE} did not become ACTIVE within 60 s")


def run_driver(system, workload, args, tmp, create=False):
    out_json = os.path.join(tmp, f"{system.name}-{workload}.json")
    cmd = [args.driver, "--endpoint", system.endpoint, "--workload", workload,
           "--records", str(args.records), "--connections", str(args.connections),
           "--threads", str(args.threads), "--item-size", str(args.item_size),
           "--distribution", args.distribution, "--quiet", "--json", out_json]
    if create:
        cmd.append("--create-table")
    if workload != "load":
        cmd += ["--duration", str(args.duration), "--warmup", str(args.warmup)]
    if args.consistent_read:
        cmd.append("--consistent-read")
    shown = [os.path.relpath(c, ROOT) if c == args.driver else c for c in cmd]
    shown = [c if c != out_json else f"{system.name}-{workload}.json" for c in shown]
    system.commands.append(shlex.join(shown))
    limit = 120 + (0 if workload == "load" else args.duration + args.warmup) + args.records / 100
    rc, out = sh(cmd, timeout=limit)
    if rc != 0 or not os.path.exists(out_json):
        return {"failed": f"shoal-bench exited {rc}: {last_line(out)}"}
    with open(out_json) as f:
        return json.load(f)


def measure(system, args, tmp):
    """{workload: driver JSON or {'failed': reason}}; raises StartFailed."""
    system.start()
    results = {}
    try:
        created = False
        try:
            created = create_table(system, args)
        except Exception as e:  # noqa: BLE001 - reported
            for w in ["load"] + args.workloads:
                results[w] = {"failed": f"CreateTable: {e}"}
            return results
        if created:
            system.commands.append(f"(CreateTable {TABLE} PAY_PER_REQUEST, hash key pk S, "
                                   "via boto3, then DescribeTable until ACTIVE)")
        print(f"[{system.name}] load {args.records} records", file=sys.stderr)
        results["load"] = run_driver(system, "load", args, tmp, create=not created)
        if "failed" in results["load"]:
            for w in args.workloads:
                results[w] = {"failed": "load phase failed"}
            return results
        for w in args.workloads:
            print(f"[{system.name}] workload {w}", file=sys.stderr)
            results[w] = run_driver(system, w, args, tmp)
    finally:
        system.stop()
    return results


def machine():
    def cpu_model():
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or "unknown"

    def mem():
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        except OSError:
            pass
        return "unknown"

    return {"nproc": os.cpu_count(), "memory": mem(), "cpu": cpu_model(),
            "kernel": platform.release(), "os": platform.platform()}


def fmt_ms(us):
    return f"{us / 1000:.2f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def errors_text(res):
    errs = res.get("errors") or {}
    total = sum(errs.values())
    if not total:
        return "0"
    top = max(errs.items(), key=lambda kv: kv[1])
    return f"{total} ({top[0]}: {top[1]})" if len(errs) > 1 or top[1] != total else f"{total} ({top[0]})"


def render(args, systems, results, failures, versions, commands, started, finished):
    m = machine()
    rows = []
    rows.append("| workload | system | ops/s | p50 ms | p95 ms | p99 ms | p99.9 ms | errors "
                "| ops/s vs Shoal | p99 vs Shoal |")
    rows.append("|---|---|---|---|---|---|---|---|---|---|")
    for w in ["load"] + args.workloads:
        shoal = results.get("shoal", {}).get(w)
        shoal_ok = shoal is not None and "failed" not in shoal and shoal.get("throughput")
        for s in systems:
            label = WORKLOADS[w] if s == systems[0] else ""
            if s in failures:
                rows.append(f"| {label} | {NAMES[s]} | did not start: {failures[s]} "
                            "| | | | | | | |")
                continue
            r = results[s].get(w, {"failed": "not run"})
            if "failed" in r:
                rows.append(f"| {label} | {NAMES[s]} | failed: {r['failed']} | | | | | | | |")
                continue
            o = r["overall"]
            tr = pr = None
            if shoal_ok:
                tr = r["throughput"] / shoal["throughput"]
                if shoal["overall"]["p99_us"]:
                    pr = o["p99_us"] / shoal["overall"]["p99_us"]
            rows.append(f"| {label} | {NAMES[s]} | {r['throughput']:.0f} | {fmt_ms(o['p50_us'])} "
                        f"| {fmt_ms(o['p95_us'])} | {fmt_ms(o['p99_us'])} | {fmt_ms(o['p999_us'])} "
                        f"| {errors_text(r)} | {fmt_ratio(tr)} | {fmt_ratio(pr)} |")

    # The targets, from the numbers.
    targets = ["| target | measured | met |", "|---|---|---|"]

    def ok(workload, system):
        r = results.get(system, {}).get(workload)
        return r if r and "failed" not in r and r.get("throughput") else None

    for w, op in (("put", "PutItem"), ("c", "GetItem")):
        if w not in args.workloads:
            continue
        sh_r = ok(w, "shoal")
        for peer, want in TARGET_RATIO.items():
            goal = f"{op} throughput >= {want:g}x {NAMES[peer]}"
            p_r = ok(w, peer)
            if sh_r and p_r:
                x = sh_r["throughput"] / p_r["throughput"]
                targets.append(f"| {goal} | {x:.2f}x ({sh_r['throughput']:.0f} vs "
                               f"{p_r['throughput']:.0f} ops/s) | {'yes' if x >= want else 'no'} |")
            else:
                why = "Shoal" if not sh_r else NAMES[peer]
                targets.append(f"| {goal} | not measured ({why} has no result) | — |")
        goal = f"{op} p99 < {TARGET_P99_MS:g} ms"
        if sh_r:
            p99 = sh_r["overall"]["p99_us"] / 1000
            targets.append(f"| {goal} | {p99:.2f} ms | {'yes' if p99 < TARGET_P99_MS else 'no'} |")
        else:
            targets.append(f"| {goal} | not measured | — |")

    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC with `python3 bench/compare.py"
        f"{' ' + ' '.join(shlex.quote(a) for a in args.argv) if args.argv else ''}`: "
        f"one system at a time on this machine, the same load from the native driver "
        f"(bench/driver, closed loop, SigV4-signed): {args.connections} connections on "
        f"{args.threads} I/O threads, {args.records} records of {args.item_size} B in 10 "
        f"attributes, {args.distribution} keys, "
        f"{'consistent' if args.consistent_read else 'eventually consistent'} GetItem, each "
        f"workload {args.warmup:g} s warmup + {args.duration:g} s measured. "
        "The driver and the system share the machine's cores.",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']} RAM, Linux {m['kernel']}.",
        "",
        "Systems:",
    ]
    for s in systems:
        lines.append(f"- {NAMES[s]}: {versions.get(s, 'unknown')}; {SETTINGS[s]}")
    lines += ["", "Throughput is successful operations per second; latencies are of successful "
              "operations (ms); ratios are the system's throughput (p99) over Shoal's.", ""]
    lines += rows
    lines += ["", f"Targets (issue 6; Shoal at {args.connections} connections"
              f"{'' if args.connections == 32 else ', the targets are stated for 32'}):", ""]
    lines += targets
    lines += ["", "Commands:", "", "```sh"]
    for s in systems:
        lines.append(f"# {NAMES[s]}")
        lines += commands.get(s, [])
        stop = (f"SHOAL_RUN_DIR={SHOAL_ENV['SHOAL_RUN_DIR']} bash scripts/fleet.sh stop"
                if s in SHOAL_SYSTEMS else f"bash scripts/peers.sh stop {s} {PEER_PORTS[s]}")
        lines.append(stop)
    lines.append("```")
    return "\n".join(lines)


SETTINGS = {
    "shoal": "local fleet (scripts/fleet.sh: nats-server, metadata, 3 storage nodes in zones a/b/c, "
             "router), 3 replicas per partition, 2 partitions, log level warn",
    "shoal-noop": "the same fleet with storage nodes started --noop-data: the router, NATS and the "
                  "storage node's ingress answer at once (writes store nothing, reads find one fixed "
                  "item): what the layers above Raft and RocksDB cost",
    "dynamodb-local": "java -Xms1g -Xmx1g, -inMemory -sharedDb -disableTelemetry",
    "dynalite": "node, in memory, --createTableMs 0 --deleteTableMs 0 --updateTableMs 0",
    "moto": "moto_server (Werkzeug, threaded), in memory",
}


def write_section(text):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        doc = f.read()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc and doc.index(BEGIN) < doc.index(END):
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + f"\n\n{HEADING}\n\n{block}\n"
    with open(path, "w") as f:
        f.write(doc)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    ap.add_argument("--workloads", default="put,c,a,b,f")
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="driver I/O threads")
    ap.add_argument("--item-size", type=int, default=1024)
    ap.add_argument("--distribution", default="zipfian", choices=["zipfian", "uniform"])
    ap.add_argument("--consistent-read", action="store_true")
    ap.add_argument("--partitions", type=int, default=2, help="Shoal fleet partitions")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md")
    argv = sys.argv[1:]
    args = ap.parse_args(argv)
    args.argv = argv
    args.build_dir = os.path.abspath(args.build_dir)
    args.driver = os.path.join(args.build_dir, "bench", "driver", "shoal-bench")
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    bad = [s for s in systems if s not in ALL_SYSTEMS]
    if bad:
        ap.error(f"unknown systems {bad}; known: {ALL_SYSTEMS}")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in args.workloads if w not in WORKLOADS or w == "load"]
    if bad:
        ap.error(f"unknown workloads {bad}; known: put,c,a,b,f")
    if not os.access(args.driver, os.X_OK):
        sys.exit(f"compare: {args.driver} missing; build it (ninja -C {args.build_dir} shoal-bench)")

    started = datetime.datetime.now(datetime.timezone.utc)
    results, failures, versions, commands = {}, {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        for s in systems:
            commands[s] = []
            system = System(s, args, commands[s])
            print(f"== {s}", file=sys.stderr)
            try:
                results[s] = measure(system, args, tmp)
            except StartFailed as e:
                failures[s] = str(e).replace("|", "/")
                print(f"[{s}] did not start: {e}", file=sys.stderr)
            except KeyboardInterrupt:
                system.stop()
                raise
            versions[s] = system.version()
    finished = datetime.datetime.now(datetime.timezone.utc)
    text = render(args, systems, results, failures, versions, commands, started, finished)
    if not args.no_write:
        print(f"compare: wrote {write_section(text)}", file=sys.stderr)
    print(text)


if __name__ == "__main__":
    main()
