#include "shoal/ctl/view.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "shoal/ctl/format.h"

namespace shoal::ctl {

using meta::v1::Node;
using meta::v1::Partition;
using meta::v1::ReplicaChange;
using meta::v1::Table;

void StatsIndex::add(std::string_view partition_id, std::string_view node_id, bool leader,
                     uint64_t items, uint64_t size_bytes) {
  auto it = by_partition_.find(partition_id);
  if (it == by_partition_.end()) {
    it = by_partition_.emplace(std::string(partition_id), std::vector<Entry>{}).first;
  }
  for (auto& e : it->second) {
    if (e.node_id == node_id) {
      e.leader = leader;
      e.items = items;
      e.size_bytes = size_bytes;
      return;
    }
  }
  it->second.push_back(Entry{std::string(node_id), leader, items, size_bytes});
}

void StatsIndex::add(std::string_view node_id, const storage::v1::AdminResponse& response) {
  for (const auto& r : response.replicas()) {
    add(r.replica().partition_id(), node_id, r.leader(), r.item_count(), r.size_bytes());
  }
}

void StatsIndex::add(const meta::v1::NodeStats& stats) {
  for (const auto& p : stats.partitions()) {
    add(p.partition_id(), stats.node_id(), p.leader(), p.item_count(), p.size_bytes());
  }
}

const StatsIndex::Entry* StatsIndex::pick(std::string_view partition_id,
                                          std::string_view leader_node_id) const {
  auto it = by_partition_.find(partition_id);
  if (it == by_partition_.end() || it->second.empty()) return nullptr;
  const auto& entries = it->second;
  if (!leader_node_id.empty()) {
    for (const auto& e : entries) {
      if (e.node_id == leader_node_id) return &e;
    }
  }
  for (const auto& e : entries) {
    if (e.leader) return &e;
  }
  return &entries.front();
}

namespace {

std::string enum_suffix(std::string_view full, std::string_view prefix, bool lower) {
  if (full.substr(0, prefix.size()) == prefix) full.remove_prefix(prefix.size());
  std::string s(full);
  if (lower) {
    for (char& c : s) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

bool change_under_way(const Partition& p) {
  return p.has_change() && p.change().stage() != ReplicaChange::STAGE_NONE;
}
bool split_under_way(const Partition& p) {
  return p.has_split() && !p.split().new_partition_id().empty();
}

std::string zone_of(const Partition& p, int i) {
  return i < p.replica_zones_size() ? p.replica_zones(i) : std::string();
}

struct Totals {
  uint64_t items = 0;
  uint64_t size = 0;
  int known = 0;  // partitions with numbers
};

Totals totals(const Table& t, const StatsIndex& stats) {
  Totals out;
  for (const auto& p : t.partitions()) {
    if (const auto* e = stats.pick(p.partition_id(), p.leader_node_id())) {
      out.items += e->items;
      out.size += e->size_bytes;
      ++out.known;
    }
  }
  return out;
}

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// The pin's end if the partition is pinned now, else 0.
int64_t pinned_until(const Partition& p) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return p.pinned_until_epoch_ms() > now ? p.pinned_until_epoch_ms() : 0;
}

// "2026-12-07T01:30:00Z"
std::string utc_text(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string finish(rapidjson::StringBuffer& buf) {
  std::string s(buf.GetString(), buf.GetSize());
  s.push_back('\n');
  return s;
}

void json_partition(Writer& w, const Partition& p, const StatsIndex& stats) {
  w.StartObject();
  w.Key("id");
  w.String(p.partition_id());
  w.Key("hash_lo");
  w.String(hex_hash(p.hash_lo()));
  w.Key("hash_hi");
  w.String(hex_hash(p.hash_hi()));
  w.Key("leader");
  if (p.leader_node_id().empty()) w.Null();
  else w.String(p.leader_node_id());
  w.Key("replicas");
  w.StartArray();
  for (int i = 0; i < p.replica_node_ids_size(); ++i) {
    w.StartObject();
    w.Key("node");
    w.String(p.replica_node_ids(i));
    w.Key("zone");
    w.String(zone_of(p, i));
    w.Key("leader");
    w.Bool(!p.leader_node_id().empty() && p.replica_node_ids(i) == p.leader_node_id());
    w.EndObject();
  }
  w.EndArray();
  const auto* e = stats.pick(p.partition_id(), p.leader_node_id());
  w.Key("items");
  if (e) w.Uint64(e->items);
  else w.Null();
  w.Key("size_bytes");
  if (e) w.Uint64(e->size_bytes);
  else w.Null();
  w.Key("pinned_until");  // an operator's pin in force: the autoscaler leaves it be
  if (int64_t until = pinned_until(p)) w.String(utc_text(until));
  else w.Null();
  w.Key("operation");
  if (split_under_way(p)) {
    w.StartObject();
    w.Key("type");
    w.String("split");
    w.Key("new_partition_id");
    w.String(p.split().new_partition_id());
    w.Key("split_hash");
    w.String(hex_hash(p.split().split_hash()));
    w.Key("reason");
    w.String(p.split().reason());
    w.EndObject();
  } else if (change_under_way(p)) {
    const auto& c = p.change();
    w.StartObject();
    w.Key("type");
    w.String("replica_change");
    w.Key("stage");
    w.String(stage_name(c.stage()));
    w.Key("from");
    w.String(c.dead_node_id());
    w.Key("to");
    w.String(c.new_node_id());
    w.Key("zone");
    w.String(c.zone());
    w.Key("reason");
    w.String(c.reason());
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
}

}  // namespace

std::string table_status_name(meta::v1::TableStatus status) {
  return enum_suffix(meta::v1::TableStatus_Name(status), "TABLE_STATUS_", false);
}

std::string stage_name(ReplicaChange::Stage stage) {
  return enum_suffix(ReplicaChange::Stage_Name(stage), "STAGE_", true);
}

std::string replicas_text(const Partition& p) {
  std::string s;
  for (int i = 0; i < p.replica_node_ids_size(); ++i) {
    if (i > 0) s.push_back(' ');
    s.append(p.replica_node_ids(i));
    std::string zone = zone_of(p, i);
    if (!zone.empty()) s.append("@").append(zone);
    if (!p.leader_node_id().empty() && p.replica_node_ids(i) == p.leader_node_id()) {
      s.push_back('*');
    }
  }
  return s.empty() ? "-" : s;
}

std::string operation_text(const Partition& p) {
  std::string s;
  if (split_under_way(p)) {
    s = "split at " + hex_hash(p.split().split_hash()) + " -> " + p.split().new_partition_id();
    if (!p.split().reason().empty()) s += " (" + p.split().reason() + ")";
  }
  if (change_under_way(p)) {
    const auto& c = p.change();
    if (!s.empty()) s += "; ";
    s += "replica " + (c.dead_node_id().empty() ? std::string("?") : c.dead_node_id()) + " -> " +
         (c.new_node_id().empty() ? std::string("?") : c.new_node_id()) + ": " +
         stage_name(c.stage());
    if (!c.reason().empty()) s += " (" + c.reason() + ")";
  }
  if (int64_t until = pinned_until(p)) {
    if (!s.empty()) s += "; ";
    s += "pinned until " + utc_text(until);
  }
  return s.empty() ? "-" : s;
}

std::string partitions_text(const Table& table, const StatsIndex& stats) {
  TextTable t({"PARTITION", "HASH RANGE", "REPLICAS", "ITEMS", "SIZE", "OPERATION"});
  for (const auto& p : table.partitions()) {
    const auto* e = stats.pick(p.partition_id(), p.leader_node_id());
    t.add_row({p.partition_id(), hex_hash(p.hash_lo()) + ".." + hex_hash(p.hash_hi()),
               replicas_text(p), e ? std::to_string(e->items) : "-",
               e ? human_bytes(e->size_bytes) : "-", operation_text(p)});
  }
  return t.render();
}

std::string tables_text(const std::vector<Table>& tables, const StatsIndex& stats) {
  TextTable t({"NAME", "TABLE ID", "STATUS", "PARTITIONS", "ITEMS", "SIZE"});
  for (const auto& table : tables) {
    Totals n = totals(table, stats);
    t.add_row({table.name(), table.table_id(), table_status_name(table.status()),
               std::to_string(table.partitions_size()),
               n.known ? std::to_string(n.items) : "-", n.known ? human_bytes(n.size) : "-"});
  }
  return t.render();
}

std::string nodes_text(const std::vector<Node>& nodes) {
  TextTable t({"NODE", "ZONE", "ALIVE", "DRAINING", "REPLICAS", "LEADERS"});
  for (const auto& n : nodes) {
    t.add_row({n.node_id(), n.zone(), n.alive() ? "yes" : "no", n.draining() ? "yes" : "no",
               std::to_string(n.replica_count()), std::to_string(n.leader_count())});
  }
  return t.render();
}

std::string partitions_json(const Table& table, const StatsIndex& stats) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("table");
  w.String(table.name());
  w.Key("table_id");
  w.String(table.table_id());
  w.Key("status");
  w.String(table_status_name(table.status()));
  w.Key("map_epoch");
  w.Uint64(table.map_epoch());
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : table.partitions()) json_partition(w, p, stats);
  w.EndArray();
  w.EndObject();
  return finish(buf);
}

std::string tables_json(const std::vector<Table>& tables, const StatsIndex& stats) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("tables");
  w.StartArray();
  for (const auto& table : tables) {
    Totals n = totals(table, stats);
    w.StartObject();
    w.Key("name");
    w.String(table.name());
    w.Key("table_id");
    w.String(table.table_id());
    w.Key("status");
    w.String(table_status_name(table.status()));
    w.Key("partitions");
    w.Int(table.partitions_size());
    w.Key("items");
    if (n.known) w.Uint64(n.items);
    else w.Null();
    w.Key("size_bytes");
    if (n.known) w.Uint64(n.size);
    else w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return finish(buf);
}

std::string nodes_json(const std::vector<Node>& nodes) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("nodes");
  w.StartArray();
  for (const auto& n : nodes) {
    w.StartObject();
    w.Key("node");
    w.String(n.node_id());
    w.Key("zone");
    w.String(n.zone());
    w.Key("alive");
    w.Bool(n.alive());
    w.Key("draining");
    w.Bool(n.draining());
    w.Key("replicas");
    w.Int(n.replica_count());
    w.Key("leaders");
    w.Int(n.leader_count());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return finish(buf);
}

const Partition* find_partition(const Table& table, std::string_view arg) {
  if (arg.empty()) return nullptr;
  for (const auto& p : table.partitions()) {
    if (p.partition_id() == arg) return &p;
  }
  std::string full = table.table_id() + "." + std::string(arg);
  for (const auto& p : table.partitions()) {
    if (p.partition_id() == full) return &p;
  }
  return nullptr;
}

}  // namespace shoal::ctl
