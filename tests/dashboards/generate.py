#!/usr/bin/env python3
"""Writes Shoal's Grafana dashboards, charts/shoal/dashboards/*.json, from the definitions
below (the JSON files are generated: change this file and run it, then
`python3 -m pytest -q tests/dashboards` to check every expression against a live fleet).

    python3 tests/dashboards/generate.py          # rewrite the JSON files
    python3 tests/dashboards/generate.py --check  # exit 1 if they differ from this file

The dashboards follow the Grafana JSON model (schemaVersion 39). Every panel queries the
Prometheus data source chosen in the `datasource` variable, so they import into any Grafana;
the other variables filter with regex matchers (=~) and default to All (`.*`).

Expressions that can be legitimately empty on a healthy fleet (errors, throttles, lag,
snapshots) end in `or on() vector(0)` or add `* 0` of a series that exists, so that an empty
panel always means "no data" (a scrape or metric problem), never "nothing happened".
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "charts", "shoal", "dashboards")

DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
THROTTLE_CODES = "ProvisionedThroughputExceededException|ThrottlingException|RequestLimitExceeded"
SERVER_ERROR_CODES = "InternalServerError|ServiceUnavailableException"


# -- templating --------------------------------------------------------------------------------

def datasource_var():
    return {"current": {}, "hide": 0, "includeAll": False, "label": "Data source",
            "multi": False, "name": "datasource", "options": [], "query": "prometheus",
            "refresh": 1, "regex": "", "skipUrlSync": False, "type": "datasource"}


def query_var(name, label, query, description):
    """A multi-value variable from label_values(...); All matches everything (.*)."""
    return {"allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "datasource": DS, "definition": query, "description": description, "hide": 0,
            "includeAll": True, "label": label, "multi": True, "name": name, "options": [],
            "query": {"qryType": 1, "query": query,
                      "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1, "type": "query"}


JOB_VAR = query_var("job", "Job", "label_values(shoal_build_info, job)",
                    "Prometheus jobs that scrape Shoal services")
INSTANCE_VAR = query_var("instance", "Instance", 'label_values(shoal_build_info{job=~"$job"}, instance)',
                         "Service instances (admin endpoints)")
STORAGE_INSTANCE_VAR = query_var("instance", "Storage node", "label_values(shoal_storage_partitions, instance)",
                                 "Storage nodes (admin endpoints)")
TABLE_VAR = query_var("table", "Table", "label_values(shoal_metadata_table_info, table)",
                      "Tables (names, as metadata knows them)")
TABLE_ID_VAR = query_var("table_id", "Table id",
                         'label_values(shoal_metadata_table_info{table=~"$table"}, table_id)',
                         "Storage-side ids of the chosen tables (shoal_metadata_table_info maps names to ids)")
# Joins a storage-side series (labelled table_id) to its table's name.
NAMES = " * on(table_id) group_left(table) max by (table_id, table) (shoal_metadata_table_info)"


# -- panels ------------------------------------------------------------------------------------

def target(expr, legend="", ref="A", instant=False, table=False):
    t = {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend or "__auto",
         "range": not instant, "instant": instant, "refId": ref}
    if table:
        t["format"] = "table"
    return t


def targets(*specs, **kw):
    """specs: (expr, legend) pairs; refIds A, B, C..."""
    return [target(e, l, chr(ord("A") + i), **kw) for i, (e, l) in enumerate(specs)]


def timeseries(title, description, tgts, unit, w=12, h=8, stack=False, min0=True, axis="",
               overrides=()):
    defaults = {"color": {"mode": "palette-classic"}, "unit": unit,
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if not stack else 30,
                           "showPoints": "never", "spanNulls": False, "axisLabel": axis,
                           "stacking": {"mode": "normal" if stack else "none", "group": "A"}}}
    if min0:
        defaults["min"] = 0
    return {"type": "timeseries", "title": title, "description": description, "datasource": DS,
            "targets": tgts, "w": w, "h": h,
            "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
            "options": {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                                   "calcs": ["mean", "max", "lastNotNull"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title, description, expr, unit, w=4, h=4, thresholds=None, decimals=None, mappings=None):
    steps = [{"color": "green", "value": None}]
    for value, color in thresholds or []:
        steps.append({"color": color, "value": value})
    defaults = {"color": {"mode": "thresholds"}, "unit": unit, "mappings": mappings or [],
                "thresholds": {"mode": "absolute", "steps": steps}}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {"type": "stat", "title": title, "description": description, "datasource": DS,
            "targets": [target(expr, "", "A")], "w": w, "h": h,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                        "orientation": "auto", "textMode": "auto"}}


def table(title, description, tgts, unit="short", w=12, h=8, hide=("Time",), rename=None, sort=None):
    return {"type": "table", "title": title, "description": description, "datasource": DS,
            "targets": tgts, "w": w, "h": h,
            "fieldConfig": {"defaults": {"unit": unit, "custom": {"align": "auto", "filterable": True}},
                            "overrides": []},
            "options": {"showHeader": True, "cellHeight": "sm",
                        "sortBy": [{"displayName": sort, "desc": True}] if sort else []},
            "transformations": [
                {"id": "merge", "options": {}},
                {"id": "organize", "options": {"excludeByName": {k: True for k in hide},
                                               "renameByName": rename or {}}}]}


def state_timeline(title, description, expr, legend, w=12, h=8, on="up", off="down"):
    return {"type": "state-timeline", "title": title, "description": description, "datasource": DS,
            "targets": [target(expr, legend, "A")], "w": w, "h": h,
            "fieldConfig": {"defaults": {
                "unit": "bool_on_off", "color": {"mode": "thresholds"},
                "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                            {"color": "green", "value": 1}]},
                "mappings": [{"type": "value", "options": {
                    "0": {"text": off, "color": "red", "index": 0},
                    "1": {"text": on, "color": "green", "index": 1}}}],
                "custom": {"fillOpacity": 80, "lineWidth": 0}}, "overrides": []},
            "options": {"showValue": "never", "mergeValues": True, "alignValue": "left",
                        "rowHeight": 0.9, "legend": {"showLegend": False, "displayMode": "list",
                                                     "placement": "bottom"},
                        "tooltip": {"mode": "single", "sort": "none"}}}


def bargauge(title, description, expr, legend, unit, w=12, h=8):
    return {"type": "bargauge", "title": title, "description": description, "datasource": DS,
            "targets": [target(expr, legend, "A", instant=True)], "w": w, "h": h,
            "fieldConfig": {"defaults": {"unit": unit, "min": 0, "color": {"mode": "continuous-BlYlRd"},
                                         "thresholds": {"mode": "absolute",
                                                        "steps": [{"color": "green", "value": None}]}},
                            "overrides": []},
            "options": {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                        "valueMode": "color", "namePlacement": "auto", "sizing": "auto",
                        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}}


def layout(panels):
    """Places panels left to right, 24 columns wide, starting a new line when one does not fit
    (a panel of width 24 always starts one); assigns ids 1.."""
    x = y = line_h = 0
    out = []
    for i, p in enumerate(panels, 1):
        w, h = p.pop("w"), p.pop("h")
        if x + w > 24:
            x, y, line_h = 0, y + line_h, 0
        p = {"id": i, "gridPos": {"h": h, "w": w, "x": x, "y": y}, **p}
        out.append(p)
        x += w
        line_h = max(line_h, h)
    return out


def dashboard(uid, title, description, variables, panels):
    return {
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"asDropdown": True, "icon": "external link", "includeVars": False,
                   "keepTime": True, "tags": ["shoal"], "targetBlank": False,
                   "title": "Shoal dashboards", "tooltip": "", "type": "dashboards", "url": ""}],
        "panels": layout(panels),
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["shoal"],
        "templating": {"list": [datasource_var(), *variables]},
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


# -- the dashboards ----------------------------------------------------------------------------

def overview():
    sel = 'job=~"$job", instance=~"$instance"'
    rsel = f'{sel}, op=~"$op"'  # router series
    req = f"shoal_router_requests_total{{{rsel}}}"
    err = f'shoal_router_requests_total{{{rsel}, code!="200"}}'
    srv = f'shoal_router_requests_total{{{rsel}, code=~"{SERVER_ERROR_CODES}"}}'
    bucket = f"shoal_router_request_duration_seconds_bucket{{{rsel}}}"
    # Per-service grouping that does not depend on job names: join shoal_build_info's service.
    svc = "* on (job, instance) group_left (service) max by (job, instance, service) (shoal_build_info)"
    total = f"sum(rate({req}[{RATE}]))"
    panels = [
        stat("Request rate", "DynamoDB API requests per second answered by the routers (all operations and results).",
             total, "reqps"),
        stat("Error ratio", "Share of requests answered with any DynamoDB error (client errors such as "
             "ConditionalCheckFailedException included). 0 when there are requests and no errors.",
             f"(sum(rate({err}[{RATE}])) or {total} * 0) / {total}", "percentunit",
             thresholds=[(0.05, "orange"), (0.25, "red")]),
        stat("Server error ratio", "Share of requests answered with InternalServerError or "
             "ServiceUnavailableException: the fleet's own failures, not the client's.",
             f"(sum(rate({srv}[{RATE}])) or {total} * 0) / {total}", "percentunit",
             thresholds=[(0.001, "orange"), (0.01, "red")]),
        stat("p99 latency", "99th percentile of request latency seen by the routers, all operations.",
             f"histogram_quantile(0.99, sum by (le) (rate({bucket}[{RATE}])))", "s",
             thresholds=[(0.1, "orange"), (0.5, "red")]),
        stat("Targets down", "Scrape targets of the selected jobs that Prometheus cannot reach (up == 0).",
             f'count(up{{{sel}}} == 0) or on() vector(0)', "short", thresholds=[(1, "red")]),
        stat("Storage nodes alive", "Storage nodes whose heartbeats metadata currently receives "
             "(shoal_metadata_nodes == 1), out of the nodes it knows.",
             "sum(max by (node) (shoal_metadata_nodes))", "short", decimals=0),
        timeseries("Requests by operation", "Requests per second by DynamoDB operation (all results).",
                   targets((f"sum by (op) (rate({req}[{RATE}]))", "{{op}}")), "reqps"),
        timeseries("Errors by type", "Error answers per second by DynamoDB error type (the short "
                   "__type, e.g. ConditionalCheckFailedException) and operation. A flat 0 means no errors.",
                   targets((f"sum by (code, op) (rate({err}[{RATE}])) or on() vector(0)", "{{code}} {{op}}")),
                   "reqps"),
        timeseries("p50 latency by operation", "Median request latency seen by the routers, by operation.",
                   targets((f"histogram_quantile(0.5, sum by (le, op) (rate({bucket}[{RATE}])))", "{{op}}")),
                   "s"),
        timeseries("p99 latency by operation", "99th percentile request latency seen by the routers, by operation.",
                   targets((f"histogram_quantile(0.99, sum by (le, op) (rate({bucket}[{RATE}])))", "{{op}}")),
                   "s"),
        timeseries("Error ratio by operation", "Share of each operation's requests answered with an error "
                   "(0 for operations without errors).",
                   targets((f"(sum by (op) (rate({err}[{RATE}])) or sum by (op) (rate({req}[{RATE}])) * 0)"
                            f" / sum by (op) (rate({req}[{RATE}]))", "{{op}}")),
                   "percentunit"),
        timeseries("Request latency (mean) by operation", "Mean request latency by operation "
                   "(sum / count of the router's latency histogram).",
                   targets((f"sum by (op) (rate(shoal_router_request_duration_seconds_sum{{{rsel}}}[{RATE}]))"
                            f" / sum by (op) (rate(shoal_router_request_duration_seconds_count{{{rsel}}}[{RATE}]))",
                            "{{op}}")), "s"),
        state_timeline("Service up", "Whether Prometheus can scrape each selected service instance.",
                       f"up{{{sel}}}", "{{job}} {{instance}}"),
        table("Build info", "Service, version and uptime of each instance (shoal_build_info and "
              "shoal_process_start_time_seconds).",
              targets((f"max by (job, instance, service, version) (shoal_build_info{{{sel}}})", ""),
                      (f"time() - max by (job, instance) (shoal_process_start_time_seconds{{{sel}}})", ""),
                      instant=True, table=True),
              unit="s", hide=("Time", "Value #A"), rename={"Value #B": "uptime"}, sort="uptime"),
        state_timeline("NATS connection", "Whether each instance is connected to NATS (shoal_nats_connected).",
                       f"max by (job, instance) (shoal_nats_connected{{{sel}}})", "{{job}} {{instance}}",
                       on="connected", off="disconnected"),
        timeseries("NATS reconnects", "NATS reconnections per instance in each interval; a 0 line "
                   "means no reconnects.",
                   targets((f"sum by (job, instance) (increase(shoal_nats_reconnects_total{{{sel}}}[{RATE}]))",
                            "{{job}} {{instance}}")), "short"),
        timeseries("NATS messages by service", "NATS messages per second by service and direction "
                   "(out: published by the service, in: delivered to it; requests and replies included).",
                   targets((f"sum by (service, direction) (rate(shoal_nats_messages_total{{{sel}}}[{RATE}]) {svc})",
                            "{{service}} {{direction}}")), "short", axis="messages/s"),
        timeseries("NATS bytes by service", "NATS payload bytes per second by service and direction.",
                   targets((f"sum by (service, direction) (rate(shoal_nats_bytes_total{{{sel}}}[{RATE}]) {svc})",
                            "{{service}} {{direction}}")), "Bps"),
    ]
    return dashboard("shoal-overview", "Shoal / Overview",
                     "Fleet overview: DynamoDB API traffic, errors and latency at the routers; "
                     "service health and NATS.", [JOB_VAR, INSTANCE_VAR, query_var(
                         "op", "Operation", "label_values(shoal_router_requests_total, op)",
                         "DynamoDB operations")], panels)


def partitions():
    rep = 'table_id=~"$table_id", instance=~"$instance"'
    panels = [
        stat("Tables", "Tables known to metadata, any status (the largest count among metadata replicas).",
             "max(sum by (instance) (shoal_metadata_tables))", "short", decimals=0),
        stat("Partitions", "Partitions of the selected tables, as metadata places them.",
             'sum(max by (table) (shoal_metadata_partitions{table=~"$table"}))', "short", decimals=0),
        stat("Replicas", "Partition replicas hosted by the selected storage nodes.",
             'sum(shoal_storage_partitions{instance=~"$instance"})', "short", decimals=0),
        stat("Leaders", "Partition replicas that are their partition's Raft leader on the selected nodes.",
             'sum(shoal_storage_partitions_led{instance=~"$instance"})', "short", decimals=0),
        stat("Partitions without leader", "Partitions none of whose replicas is leader right now "
             "(an election is running or a quorum is lost). Should be 0.",
             f'count(max by (table_id, partition) (shoal_storage_replica_leader{{table_id=~"$table_id"}}) == 0)'
             " or on() vector(0)", "short", thresholds=[(1, "red")], decimals=0),
        stat("Stored bytes", "Bytes stored by the selected tables, one replica per partition "
             "(the largest replica's figure).",
             f"sum(max by (table_id, partition) (shoal_storage_replica_size_bytes{{{rep}}}))", "bytes"),
        bargauge("Partitions per table", "Partitions of each table (shoal_metadata_partitions).",
                 'max by (table) (shoal_metadata_partitions{table=~"$table"})', "{{table}}", "short"),
        timeseries("Replicas per node", "Partition replicas hosted by each storage node.",
                   targets(('sum by (instance) (shoal_storage_partitions{instance=~"$instance"})', "{{instance}}")),
                   "short"),
        timeseries("Leaders per node", "Partitions each storage node leads: a balanced fleet spreads "
                   "leaders evenly.",
                   targets(('sum by (instance) (shoal_storage_partitions_led{instance=~"$instance"})', "{{instance}}")),
                   "short"),
        timeseries("Stored bytes per node", "Bytes held by each storage node's replicas.",
                   targets((f"sum by (instance) (shoal_storage_replica_size_bytes{{{rep}}})", "{{instance}}")),
                   "bytes"),
        timeseries("Partition size", "Size of each partition (its largest replica).",
                   targets((f"max by (table_id, partition) (shoal_storage_replica_size_bytes{{{rep}}}){NAMES}",
                            "{{table}} {{partition}}")), "bytes"),
        timeseries("Items per partition", "Items stored in each partition (its largest replica).",
                   targets((f"max by (table_id, partition) (shoal_storage_replica_items{{{rep}}}){NAMES}",
                            "{{table}} {{partition}}")), "short"),
        table("Hottest partitions", "The 10 partitions with the most reads (served by any replica) plus "
              "writes (applied once per partition) per second, over the last 5 minutes.",
              targets((f"topk(10, sum by (table_id, partition) (rate(shoal_storage_replica_reads_total{{{rep}}}[5m]))"
                       f" + max by (table_id, partition) (rate(shoal_storage_replica_writes_total{{{rep}}}[5m])))"
                       f"{NAMES}", ""),
                      instant=True, table=True),
              unit="ops", rename={"Value": "reads+writes/s"}, sort="reads+writes/s"),
        timeseries("Hottest partitions over time", "Reads plus writes per second of the 10 busiest partitions.",
                   targets((f"topk(10, sum by (table_id, partition) (rate(shoal_storage_replica_reads_total{{{rep}}}[{RATE}]))"
                            f" + max by (table_id, partition) (rate(shoal_storage_replica_writes_total{{{rep}}}[{RATE}])))"
                            f"{NAMES}", "{{table}} {{partition}}")), "ops"),
        timeseries("Reads per node", "Reads (GetItem, Query and Scan pages) served per second by each "
                   "storage node: eventual reads spread over followers, consistent ones go to leaders.",
                   targets((f"sum by (instance) (rate(shoal_storage_replica_reads_total{{{rep}}}[{RATE}]))",
                            "{{instance}}")), "ops"),
        timeseries("Writes per node", "Writes applied per second by each storage node (every replica "
                   "applies every write of its partition).",
                   targets((f"sum by (instance) (rate(shoal_storage_replica_writes_total{{{rep}}}[{RATE}]))",
                            "{{instance}}")), "ops"),
        stat("Splits", "Partition splits completed in the selected time range (metadata; size or heat "
             "splits asked by the autoscaler, and operators' shoalctl split).",
             "sum(increase(shoal_metadata_splits_total[$__range])) or on() vector(0)", "short", decimals=0),
        stat("Leadership transfers", "Partition leaderships handed to another member in the selected "
             "time range (the autoscaler balancing leaders, shoalctl lead).",
             'sum(increase(shoal_metadata_leader_transfers_total{outcome="ok"}[$__range])) or on() vector(0)',
             "short", decimals=0),
        stat("Replica moves under way", "Replica changes (moves, drains, replacements) in progress in the "
             "catalog, as the autoscaler sees it.",
             "max(shoal_autoscaler_moves_in_flight) or on() vector(0)", "short", decimals=0),
        stat("Replicas re-created", "Replicas metadata re-created (a new member on the same node) for a "
             "live member that had lost them (e.g. a node that took a split parent's image), in the "
             "selected time range.",
             "sum(increase(shoal_metadata_replicas_reopened_total[$__range])) or on() vector(0)", "short",
             thresholds=[(1, "orange")], decimals=0),
        timeseries("Autoscaler decisions", "Decisions per interval by kind (split_size, split_heat, move, "
                   "transfer_leader, no_split_*) and by what metadata answered (ok, refused, error, dry_run).",
                   targets((f"sum by (kind, result) (increase(shoal_autoscaler_decisions_total[{RATE}]))",
                            "{{kind}} {{result}}")), "short"),
        timeseries("Desired storage nodes per zone", "Storage nodes each zone should have for its data and "
                   "load (the autoscaler applies it to the zone's StatefulSet in Kubernetes), against the "
                   "live nodes metadata sees.",
                   targets(("max by (zone) (shoal_autoscaler_desired_nodes)", "desired {{zone}}"),
                           ("sum by (zone) (shoal_metadata_nodes)", "live {{zone}}")), "short"),
        table("Replica placement", "Every replica: its node and whether it leads its partition (1) or follows (0).",
              targets((f"max by (table_id, partition, instance) (shoal_storage_replica_leader{{{rep}}})", ""),
                      instant=True, table=True),
              w=24, rename={"Value": "leader"}),
    ]
    return dashboard("shoal-partitions", "Shoal / Partitions",
                     "Partitions: placement of replicas and leaders, sizes, items and the busiest partitions.",
                     [TABLE_VAR, TABLE_ID_VAR, STORAGE_INSTANCE_VAR], panels)


def replication():
    rep = 'table_id=~"$table_id", instance=~"$instance"'
    lag = f"shoal_storage_raft_replication_lag_entries{{{rep}}}"
    panels = [
        stat("Max replication lag", "Largest number of log entries any follower is behind its leader "
             "(reported by leaders). 0 when every follower is caught up.",
             f"max({lag}) or on() vector(0)", "short", thresholds=[(100, "orange"), (1000, "red")], decimals=0),
        stat("Max commit-apply gap", "Largest number of committed entries a replica has not applied yet.",
             "max(shoal_storage_raft_commit_index{%s} - shoal_storage_raft_applied_index{%s})" % (rep, rep),
             "short", thresholds=[(100, "orange"), (1000, "red")], decimals=0),
        stat("Leadership changes", "Times a replica became leader in the selected time range "
             "(failovers, plus first leaders of new partitions).",
             f"sum(increase(shoal_storage_raft_leaderships_total{{{rep}}}[$__range])) or on() vector(0)",
             "short", thresholds=[(1, "orange")], decimals=0),
        stat("Elections", "Elections started (candidacies) in the selected time range.",
             f"sum(increase(shoal_storage_raft_elections_total{{{rep}}}[$__range])) or on() vector(0)",
             "short", thresholds=[(1, "orange")], decimals=0),
        stat("Snapshots sent", "Snapshots streamed to lagging or new followers in the selected time range.",
             f"sum(increase(shoal_storage_raft_snapshots_sent_total{{{rep}}}[$__range])) or on() vector(0)",
             "short", decimals=0),
        stat("Max term", "Highest Raft term among the selected partitions.",
             f"max(shoal_storage_raft_term{{{rep}}})", "short", decimals=0),
        timeseries("Replication lag", "Log entries each follower (peer) is behind its partition's leader.",
                   targets((f"max by (table_id, partition, peer) ({lag}) or on() vector(0)",
                            "{{partition}} → {{peer}}")), "short", axis="entries"),
        timeseries("Applied index spread", "Distance between the most and the least advanced replica of "
                   "each partition (applied index): replication lag measured from all replicas.",
                   targets((f"max by (table_id, partition) (shoal_storage_raft_applied_index{{{rep}}})"
                            f" - min by (table_id, partition) (shoal_storage_raft_applied_index{{{rep}}})",
                            "{{partition}}")), "short", axis="entries"),
        timeseries("Raft term", "Current Raft term of each partition (its highest replica term): a "
                   "step is an election.",
                   targets((f"max by (table_id, partition) (shoal_storage_raft_term{{{rep}}})", "{{partition}}")),
                   "short", min0=False),
        timeseries("Leadership changes (failovers)", "Leaderships won per second by node: each is a "
                   "failover or a partition's first leader.",
                   targets((f"sum by (instance) (rate(shoal_storage_raft_leaderships_total{{{rep}}}[{RATE}]))",
                            "{{instance}}")), "short", axis="per second"),
        timeseries("Elections", "Elections started per second by node (a replica becoming candidate); "
                   "more elections than leadership changes means split votes or failed campaigns.",
                   targets((f"sum by (instance) (rate(shoal_storage_raft_elections_total{{{rep}}}[{RATE}]))",
                            "{{instance}}")), "short", axis="per second"),
        timeseries("Commit − applied gap", "Committed log entries each replica has not applied yet.",
                   targets((f"shoal_storage_raft_commit_index{{{rep}}} - shoal_storage_raft_applied_index{{{rep}}}",
                            "{{partition}} {{instance}}")), "short", axis="entries"),
        timeseries("Commit rate", "Log entries committed per second by each partition (its leader's view).",
                   targets((f"max by (table_id, partition) (rate(shoal_storage_raft_commit_index{{{rep}}}[{RATE}]))",
                            "{{partition}}")), "short", axis="entries/s"),
        timeseries("Snapshots", "Snapshots sent by leaders and installed by followers per second.",
                   targets((f"sum(rate(shoal_storage_raft_snapshots_sent_total{{{rep}}}[{RATE}])) or on() vector(0)",
                            "sent"),
                           (f"sum(rate(shoal_storage_raft_snapshots_installed_total{{{rep}}}[{RATE}])) or on() vector(0)",
                            "installed")), "short", axis="per second"),
        timeseries("Log entries since snapshot", "Applied entries not yet compacted into a snapshot, "
                   "per replica: the log a restarting replica replays.",
                   targets((f"shoal_storage_raft_applied_index{{{rep}}} - shoal_storage_raft_snapshot_index{{{rep}}}",
                            "{{partition}} {{instance}}")), "short", axis="entries"),
        table("Raft state per replica", "Term, commit, applied and snapshot index of every replica, and "
              "whether it leads (1).",
              targets((f"max by (table_id, partition, instance) (shoal_storage_replica_leader{{{rep}}})", ""),
                      (f"max by (table_id, partition, instance) (shoal_storage_raft_term{{{rep}}})", ""),
                      (f"max by (table_id, partition, instance) (shoal_storage_raft_commit_index{{{rep}}})", ""),
                      (f"max by (table_id, partition, instance) (shoal_storage_raft_applied_index{{{rep}}})", ""),
                      (f"max by (table_id, partition, instance) (shoal_storage_raft_snapshot_index{{{rep}}})", ""),
                      instant=True, table=True),
              w=24, rename={"Value #A": "leader", "Value #B": "term", "Value #C": "commit",
                            "Value #D": "applied", "Value #E": "snapshot"}),
    ]
    return dashboard("shoal-replication", "Shoal / Replication",
                     "Raft replication of partitions: lag, terms, elections and failovers, apply gap, snapshots.",
                     [TABLE_VAR, TABLE_ID_VAR, STORAGE_INSTANCE_VAR], panels)


def capacity():
    consumed = 'shoal_router_consumed_capacity_units_total{table=~"$table", kind="%s"}'
    prov = 'shoal_metadata_table_provisioned_capacity_units{table=~"$table", kind="%s"}'
    thr = f'shoal_router_requests_total{{code=~"{THROTTLE_CODES}"}}'
    sto = 'instance=~"$instance"'
    sbucket = f"shoal_storage_request_duration_seconds_bucket{{{sto}}}"

    def consumed_vs(kind, unit_name):
        return timeseries(
            f"{kind.capitalize()} capacity: consumed vs provisioned",
            f"{unit_name} consumed per second by each table (as the router charges them) against the "
            f"table's provisioned {unit_name} (dashed; absent for PAY_PER_REQUEST tables).",
            targets((f"sum by (table) (rate({consumed % kind}[{RATE}]))", "{{table}} consumed"),
                    (f"max by (table) ({prov % kind}) > 0", "{{table}} provisioned")),
            "short", axis=f"{unit_name}/s",
            overrides=[{"matcher": {"id": "byFrameRefID", "options": "B"}, "properties": [
                {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                {"id": "custom.fillOpacity", "value": 0}]}])

    def utilization(kind, unit_name):
        return timeseries(
            f"{kind.capitalize()} capacity utilization",
            f"Consumed {unit_name} as a share of provisioned {unit_name}, for provisioned tables. Above "
            "100% for long, requests get throttled.",
            targets((f"sum by (table) (rate({consumed % kind}[{RATE}])) / max by (table) ({prov % kind} > 0)",
                     "{{table}}")), "percentunit")

    panels = [
        stat("Read units consumed", "RCU per second consumed by the selected tables.",
             f"sum(rate({consumed % 'read'}[{RATE}]))", "short"),
        stat("Write units consumed", "WCU per second consumed by the selected tables.",
             f"sum(rate({consumed % 'write'}[{RATE}]))", "short"),
        stat("Provisioned RCU", "Read capacity units provisioned for the selected tables.",
             f"sum(max by (table) ({prov % 'read'})) or on() vector(0)", "short"),
        stat("Provisioned WCU", "Write capacity units provisioned for the selected tables.",
             f"sum(max by (table) ({prov % 'write'})) or on() vector(0)", "short"),
        stat("Throttled requests", "Requests per second refused with ProvisionedThroughputExceededException, "
             "ThrottlingException or RequestLimitExceeded.",
             f"sum(rate({thr}[{RATE}])) or on() vector(0)", "reqps", thresholds=[(0.001, "orange"), (1, "red")]),
        stat("Storage p99 latency", "99th percentile of request handling time on the storage nodes, all ops.",
             f"histogram_quantile(0.99, sum by (le) (rate({sbucket}[{RATE}])))", "s",
             thresholds=[(0.05, "orange"), (0.25, "red")]),
        consumed_vs("read", "RCU"),
        consumed_vs("write", "WCU"),
        utilization("read", "RCU"),
        utilization("write", "WCU"),
        timeseries("Throttled requests by operation", "Throttled requests per second by operation and "
                   "error type. A flat 0 means nothing is throttled.",
                   targets((f"sum by (op, code) (rate({thr}[{RATE}])) or on() vector(0)", "{{op}} {{code}}")),
                   "reqps"),
        timeseries("Stored bytes per table", "Bytes stored by each table (one replica per partition).",
                   targets(('sum by (table) (max by (table_id, partition) (shoal_storage_replica_size_bytes)'
                            ' * on(table_id) group_left(table)'
                            ' max by (table_id, table) (shoal_metadata_table_info{table=~"$table"}))', "{{table}}")),
                   "bytes"),
        timeseries("Storage p50 latency by op", "Median time storage nodes take to handle a request, by op.",
                   targets((f"histogram_quantile(0.5, sum by (le, op) (rate({sbucket}[{RATE}])))", "{{op}}")), "s"),
        timeseries("Storage p99 latency by op", "99th percentile time storage nodes take to handle a "
                   "request, by op.",
                   targets((f"histogram_quantile(0.99, sum by (le, op) (rate({sbucket}[{RATE}])))", "{{op}}")), "s"),
        timeseries("Storage requests by op", "Requests per second handled by the storage nodes, by op.",
                   targets((f"sum by (op) (rate(shoal_storage_request_duration_seconds_count{{{sto}}}[{RATE}]))",
                            "{{op}}")), "reqps"),
        timeseries("Storage p99 latency by node", "99th percentile storage request time per node: one "
                   "slow node stands out here.",
                   targets((f"histogram_quantile(0.99, sum by (le, instance) (rate({sbucket}[{RATE}])))",
                            "{{instance}}")), "s"),
        table("Provisioned capacity", "Provisioned read and write capacity units of each table "
              "(0 for PAY_PER_REQUEST tables).",
              targets((f"max by (table, kind) (shoal_metadata_table_provisioned_capacity_units{{table=~\"$table\"}})", ""),
                      instant=True, table=True),
              w=24, rename={"Value": "units"}),
    ]
    return dashboard("shoal-capacity", "Shoal / Capacity",
                     "Capacity: consumed against provisioned read and write units per table, throttling, "
                     "and the storage nodes' own latency.",
                     [query_var("table", "Table", "label_values(shoal_router_consumed_capacity_units_total, table)",
                                "Tables (names)"), STORAGE_INSTANCE_VAR], panels)


DASHBOARDS = {
    "shoal-overview.json": overview,
    "shoal-partitions.json": partitions,
    "shoal-replication.json": replication,
    "shoal-capacity.json": capacity,
}


def render(build):
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    os.makedirs(OUT, exist_ok=True)
    for name, build in DASHBOARDS.items():
        path = os.path.join(OUT, name)
        text = render(build)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == text:
            continue
        if check:
            stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {os.path.relpath(path)}")
    if stale:
        print("out of date (run tests/dashboards/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
