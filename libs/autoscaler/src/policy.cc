#include "shoal/autoscaler/policy.h"

#include <algorithm>
#include <set>
#include <utility>

namespace shoal::autoscaler {

namespace {

using meta::v1::Partition;
using meta::v1::Table;

bool busy(const Partition& p) {
  return !p.split().new_partition_id().empty() ||
         p.change().stage() != meta::v1::ReplicaChange::STAGE_NONE;
}

// Tenths of a unit per second consumed over `interval_ms`.
uint64_t rate_x10(uint64_t units_x10, uint64_t interval_ms) {
  if (interval_ms == 0) return 0;
  return units_x10 * 1000 / interval_ms;
}

uint64_t ceil_div(uint64_t a, uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

std::string split_sides(const SplitPoint& sp) {
  return std::to_string(sp.left) + "/" + std::to_string(sp.total - sp.left) + " sampled requests";
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kSplitSize: return "split_size";
    case Kind::kSplitHeat: return "split_heat";
    case Kind::kMove: return "move";
    case Kind::kNoSplitSingleKey: return "no_split_single_key";
    case Kind::kNoSplitNoPoint: return "no_split_no_point";
    case Kind::kTransferLeader: return "transfer_leader";
  }
  return "unknown";
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  uint64_t unit = 1;
  while (u < 5 && bytes / unit >= 1024) {
    unit *= 1024;
    ++u;
  }
  if (u == 0) return std::to_string(bytes) + " B";
  // One decimal, truncated (integers only: 9.96 MiB shows as 9.9 MiB).
  auto tenths = static_cast<uint64_t>(static_cast<unsigned __int128>(bytes) * 10 / unit);
  std::string s = std::to_string(tenths / 10);
  if (tenths % 10 != 0) s += "." + std::to_string(tenths % 10);
  return s + " " + kUnits[u];
}

std::string format_units_x10(uint64_t units_x10) {
  std::string s = std::to_string(units_x10 / 10);
  if (units_x10 % 10 != 0) s += "." + std::to_string(units_x10 % 10);
  return s;
}

// ---- Heat split point --------------------------------------------------------------------

SplitPoint heat_split_point(const std::map<uint64_t, uint64_t>& samples, uint64_t lo,
                            uint64_t hi, const Options& options) {
  SplitPoint sp;
  std::vector<std::pair<uint64_t, uint64_t>> in;  // sorted by hash (map order)
  for (auto it = samples.lower_bound(lo); it != samples.end() && it->first <= hi; ++it) {
    if (it->second == 0) continue;
    in.push_back(*it);
    sp.total += it->second;
    sp.top = std::max(sp.top, it->second);
  }
  if (sp.total == 0 || sp.total < options.min_key_samples) {
    sp.outcome = SplitPoint::Outcome::kTooFewSamples;
    return sp;
  }
  if (sp.top * 100 > uint64_t{options.hot_key_percent} * sp.total) {
    sp.outcome = SplitPoint::Outcome::kSingleKey;
    return sp;
  }
  // Candidate k splits between hashes k-1 and k: left = requests of hashes before k. Take the
  // k whose left side is closest to half.
  size_t best = 0;
  uint64_t best_left = 0;
  uint64_t best_diff = UINT64_MAX;
  uint64_t left = 0;
  for (size_t k = 1; k < in.size(); ++k) {
    left += in[k - 1].second;
    uint64_t diff = left * 2 > sp.total ? left * 2 - sp.total : sp.total - left * 2;
    if (diff < best_diff) {
      best_diff = diff;
      best = k;
      best_left = left;
    }
  }
  if (best == 0 || std::min(best_left, sp.total - best_left) * 100 <
                       uint64_t{options.min_side_percent} * sp.total) {
    sp.outcome = SplitPoint::Outcome::kNoPoint;
    return sp;
  }
  // Halfway between the neighbours, so keys not sampled between them divide evenly:
  // in (h[k-1], h[k]], hence in (lo, hi].
  uint64_t a = in[best - 1].first;
  uint64_t b = in[best].first;
  sp.split_hash = a + 1 + (b - a - 1) / 2;
  sp.left = best_left;
  sp.outcome = SplitPoint::Outcome::kSplit;
  return sp;
}

// ---- Windows -----------------------------------------------------------------------------

uint64_t PartitionWindow::avg_read_rate_x10() const {
  uint64_t units = 0, ms = 0;
  for (const auto& i : recent) units += i.read_units_x10, ms += i.interval_ms;
  return rate_x10(units, ms);
}

uint64_t PartitionWindow::avg_write_rate_x10() const {
  uint64_t units = 0, ms = 0;
  for (const auto& i : recent) units += i.write_units_x10, ms += i.interval_ms;
  return rate_x10(units, ms);
}

int Policy::observe(const meta::v1::NodeStats& stats, int64_t now_ms) {
  // Distinct hashes kept per hot period (a bound on memory; the storage side samples).
  static constexpr size_t kMaxSampledHashes = 16384;
  int taken = 0;
  for (const auto& ps : stats.partitions()) {
    if (!ps.leader() || ps.partition_id().empty()) continue;
    ++taken;
    auto& w = windows_[ps.partition_id()];
    const int64_t interval = static_cast<int64_t>(ps.interval_ms());
    // A gap in the leader's reports (lost messages, a leader change that took a while) or a
    // new hash range (the partition split) ends whatever hot period was running.
    bool gap = w.last_report_ms != 0 &&
               now_ms - w.last_report_ms > std::max<int64_t>(3 * interval, 3000);
    bool reshaped = w.hash_lo != ps.hash_lo() || w.hash_hi != ps.hash_hi();
    if (gap || reshaped) {
      w.hot_since_ms = -1;
      w.samples.clear();
    }
    if (reshaped) w.recent.clear();
    w.table_id = ps.table_id();
    w.partition_id = ps.partition_id();
    w.hash_lo = ps.hash_lo();
    w.hash_hi = ps.hash_hi();
    w.leader_node_id = stats.node_id();
    w.size_bytes = ps.size_bytes();
    w.item_count = ps.item_count();
    w.learners = ps.learners();
    w.last_report_ms = now_ms;
    w.read_rate_x10 = rate_x10(ps.read_units_x10(), ps.interval_ms());
    w.write_rate_x10 = rate_x10(ps.write_units_x10(), ps.interval_ms());
    w.recent.push_back({now_ms, ps.read_units_x10(), ps.write_units_x10(), ps.interval_ms()});
    while (!w.recent.empty() && now_ms - w.recent.front().at_ms >= options_.heat_ms) {
      w.recent.pop_front();
    }
    bool hot = w.read_rate_x10 > options_.heat_read_units * 10 ||
               w.write_rate_x10 > options_.heat_write_units * 10;
    if (!hot) {
      w.hot_since_ms = -1;
      w.samples.clear();
      continue;
    }
    // Hot since the start of the first hot interval.
    if (w.hot_since_ms < 0) w.hot_since_ms = now_ms - interval;
    for (const auto& k : ps.key_sample()) {
      auto it = w.samples.find(k.hash());
      if (it != w.samples.end()) {
        it->second += k.count();
      } else if (w.samples.size() < kMaxSampledHashes) {
        w.samples.emplace(k.hash(), k.count());
      }
    }
  }
  return taken;
}

void Policy::expire(int64_t now_ms) {
  std::erase_if(windows_, [&](const auto& kv) {
    return now_ms - kv.second.last_report_ms >= options_.stats_ttl_ms;
  });
}

void Policy::decided(PartitionWindow& w, int64_t now_ms) {
  w.quiet_until_ms = now_ms + options_.cooldown_ms;
  w.hot_since_ms = -1;
  w.samples.clear();
}

std::vector<Decision> Policy::plan_splits(const Catalog& catalog, int64_t now_ms) {
  std::vector<Decision> out;
  for (auto& [id, w] : windows_) {
    if (now_ms < w.quiet_until_ms || w.learners > 0) continue;
    auto t = catalog.tables.find(w.table_id);
    if (t == catalog.tables.end() || t->second.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
    const Table& table = t->second;
    const Partition* p = nullptr;
    for (const auto& q : table.partitions()) {
      if (q.partition_id() == id) p = &q;
    }
    // Unknown to the catalog, an operation under way, or stats and catalog disagree on the
    // range (one of them has not caught up with a split yet): wait.
    if (p == nullptr || busy(*p) || p->hash_lo() != w.hash_lo || p->hash_hi() != w.hash_hi) {
      continue;
    }
    if (w.hash_hi <= w.hash_lo) continue;  // a single hash cannot be split
    Decision d;
    d.table_id = w.table_id;
    d.table_name = table.name();
    d.partition_id = id;
    if (w.size_bytes > options_.split_size_bytes) {
      d.kind = Kind::kSplitSize;
      d.split_hash = 0;
      const bool again = w.size_asks > 0 && w.asked_lo == w.hash_lo && w.asked_hi == w.hash_hi;
      w.size_asks = again ? w.size_asks + 1 : 1;
      w.asked_lo = w.hash_lo;
      w.asked_hi = w.hash_hi;
      d.reason = "size: " + format_bytes(w.size_bytes) + " > " +
                 format_bytes(options_.split_size_bytes) + " at the data median";
      if (again) {
        d.reason += " (ask " + std::to_string(w.size_asks) +
                    ": the last one did not split it; one partition key may hold it all)";
      }
      decided(w, now_ms);
      w.quiet_until_ms = now_ms + (options_.cooldown_ms << std::min<uint32_t>(w.size_asks - 1, 6));
      out.push_back(std::move(d));
      continue;
    }
    if (w.hot_since_ms < 0 || now_ms - w.hot_since_ms < options_.heat_ms) continue;
    SplitPoint sp = heat_split_point(w.samples, w.hash_lo, w.hash_hi, options_);
    std::string load = "reads " + format_units_x10(w.read_rate_x10) + "/" +
                       std::to_string(options_.heat_read_units) + " RCU/s, writes " +
                       format_units_x10(w.write_rate_x10) + "/" +
                       std::to_string(options_.heat_write_units) + " WCU/s for " +
                       std::to_string((now_ms - w.hot_since_ms) / 1000) + " s";
    switch (sp.outcome) {
      case SplitPoint::Outcome::kTooFewSamples:
        continue;  // keep sampling
      case SplitPoint::Outcome::kSingleKey:
        d.kind = Kind::kNoSplitSingleKey;
        d.reason = "heat (" + load + ") from a single key: " + std::to_string(sp.top) + " of " +
                   std::to_string(sp.total) + " sampled requests on one hash";
        break;
      case SplitPoint::Outcome::kNoPoint:
        d.kind = Kind::kNoSplitNoPoint;
        d.reason = "heat (" + load + ") but no split point separates the load (" +
                   std::to_string(sp.total) + " sampled requests)";
        break;
      case SplitPoint::Outcome::kSplit:
        d.kind = Kind::kSplitHeat;
        d.split_hash = sp.split_hash;
        d.reason = "heat: " + load + ", at the sampled median " + std::to_string(sp.split_hash) +
                   " (" + split_sides(sp) + ")";
        break;
    }
    decided(w, now_ms);
    out.push_back(std::move(d));
  }
  return out;
}

// ---- Rebalancing -------------------------------------------------------------------------

bool pinned(const meta::v1::Partition& p, const Catalog& catalog) {
  return p.pinned_until_epoch_ms() > catalog.fetched_epoch_ms;
}

int moves_in_flight(const Catalog& catalog) {
  int n = 0;
  for (const auto& [_, t] : catalog.tables) {
    for (const auto& p : t.partitions()) {
      if (p.change().stage() != meta::v1::ReplicaChange::STAGE_NONE) ++n;
    }
  }
  return n;
}

std::map<std::string, int> replica_counts(const Catalog& catalog) {
  std::map<std::string, int> counts;
  for (const auto& n : catalog.nodes) {
    if (n.alive() && !n.draining()) counts[n.node_id()] = 0;
  }
  auto bump = [&](const std::string& node, int by) {
    if (auto it = counts.find(node); it != counts.end()) it->second += by;
  };
  for (const auto& [_, t] : catalog.tables) {
    for (const auto& p : t.partitions()) {
      const auto& ids = p.replica_node_ids();
      for (const auto& id : ids) bump(id, 1);
      const auto& c = p.change();
      if (c.stage() == meta::v1::ReplicaChange::STAGE_NONE) continue;
      bool has_old = std::find(ids.begin(), ids.end(), c.dead_node_id()) != ids.end();
      bool has_new = std::find(ids.begin(), ids.end(), c.new_node_id()) != ids.end();
      if (has_old) bump(c.dead_node_id(), -1);
      if (!has_new) bump(c.new_node_id(), 1);
    }
  }
  return counts;
}

uint64_t partition_load_x10(const Policy& policy, const std::string& partition_id) {
  auto w = policy.partitions().find(partition_id);
  if (w == policy.partitions().end()) return 0;
  return w->second.avg_read_rate_x10() + 3 * w->second.avg_write_rate_x10();
}

std::vector<Decision> plan_moves(const Catalog& catalog, const Options& options,
                                 const Policy* policy) {
  std::vector<Decision> out;
  int budget = options.max_moves - moves_in_flight(catalog);
  if (budget <= 0) return out;
  std::map<std::string, int> counts = replica_counts(catalog);
  // Load each node's replicas carry (0 everywhere without a policy).
  std::map<std::string, uint64_t> part_load, node_load;
  if (policy) {
    for (const auto& [_, t] : catalog.tables)
      for (const auto& p : t.partitions()) {
        const uint64_t l = partition_load_x10(*policy, p.partition_id());
        part_load[p.partition_id()] = l;
        for (const auto& id : p.replica_node_ids()) node_load[id] += l;
      }
  }
  std::map<std::string, std::vector<std::string>> zones;  // zone -> live nodes
  for (const auto& n : catalog.nodes) {
    if (counts.count(n.node_id())) zones[n.zone()].push_back(n.node_id());
  }
  // Movable partitions, in a stable order.
  struct Candidate {
    const Table* table;
    const Partition* partition;
  };
  std::vector<Candidate> movable;
  for (const auto& [_, t] : catalog.tables) {
    if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
    for (const auto& p : t.partitions()) {
      if (!busy(p) && !pinned(p, catalog)) movable.push_back({&t, &p});
    }
  }
  std::set<std::string> used;  // partitions given a move in this plan
  const int64_t pct = options.balance_percent;

  // One move in `zone`, or false when it is as balanced as it gets.
  auto move_one = [&](const std::string& zone, const std::vector<std::string>& nodes) {
    if (nodes.size() < 2) return false;
    const int64_t n = static_cast<int64_t>(nodes.size());
    int64_t total = 0;
    for (const auto& id : nodes) total += counts[id];
    // count within mean ±pct%  <=>  |count*n*100 - total*100| <= total*pct.
    auto within = [&](int c) {
      int64_t lhs = int64_t{c} * n * 100 - total * 100;
      return (lhs < 0 ? -lhs : lhs) <= total * pct;
    };
    std::vector<std::string> by_count = nodes;
    std::sort(by_count.begin(), by_count.end(), [&](const auto& a, const auto& b) {
      return counts[a] != counts[b] ? counts[a] < counts[b] : a < b;
    });
    bool balanced = true;
    for (const auto& id : nodes) balanced = balanced && within(counts[id]);
    // The fullest node first among equals by id; the emptiest likewise.
    std::vector<std::string> fullest = by_count;
    std::stable_sort(fullest.begin(), fullest.end(),
                     [&](const auto& a, const auto& b) { return counts[a] > counts[b]; });
    const std::string& from = fullest.front();
    if (balanced || counts[from] - counts[by_count.front()] <= 1) return false;
    for (const auto& to : by_count) {
      if (counts[from] - counts[to] <= 1) break;
      // Prefer a follower replica of `from` (moving a leader costs an election); among them
      // the hottest when `from` carries more load than `to`, else the coldest (first in
      // catalog order among equals).
      const bool hotter = node_load[from] > node_load[to];
      const Candidate* pick = nullptr;
      for (int pass = 0; pass < 2 && pick == nullptr; ++pass) {
        for (const auto& c : movable) {
          if (used.count(c.partition->partition_id())) continue;
          const auto& ids = c.partition->replica_node_ids();
          if (std::find(ids.begin(), ids.end(), from) == ids.end()) continue;
          if (std::find(ids.begin(), ids.end(), to) != ids.end()) continue;
          if (pass == 0 && c.partition->leader_node_id() == from) continue;
          const uint64_t l = part_load[c.partition->partition_id()];
          const uint64_t best = pick ? part_load[pick->partition->partition_id()] : 0;
          if (!pick || (hotter ? l > best : l < best)) pick = &c;
        }
      }
      if (pick == nullptr) continue;
      Decision d;
      d.kind = Kind::kMove;
      d.table_id = pick->table->table_id();
      d.table_name = pick->table->name();
      d.partition_id = pick->partition->partition_id();
      d.from_node_id = from;
      d.to_node_id = to;
      d.zone = zone;
      // Mean with one decimal, from integers.
      int64_t mean_x10 = total * 10 / n;
      d.reason = "rebalance " + zone + ": " + from + " has " + std::to_string(counts[from]) +
                 " replicas, " + to + " " + std::to_string(counts[to]) + ", zone mean " +
                 format_units_x10(static_cast<uint64_t>(mean_x10)) + " (target ±" +
                 std::to_string(pct) + "%)";
      if (const uint64_t l = part_load[d.partition_id]; l > 0) {
        d.reason += "; its load " + format_units_x10(l) + " units/s (" + from + " carries " +
                    format_units_x10(node_load[from]) + ", " + to + " " +
                    format_units_x10(node_load[to]) + ")";
        node_load[from] -= l;
        node_load[to] += l;
      }
      counts[from] -= 1;
      counts[to] += 1;
      used.insert(d.partition_id);
      out.push_back(std::move(d));
      return true;
    }
    return false;
  };

  // Zones take turns, one move each, until the budget is spent or none can improve.
  std::set<std::string> done;
  while (budget > 0 && done.size() < zones.size()) {
    for (const auto& [zone, nodes] : zones) {
      if (budget <= 0) break;
      if (done.count(zone)) continue;
      if (move_one(zone, nodes)) {
        --budget;
      } else {
        done.insert(zone);
      }
    }
  }
  return out;
}

std::vector<Decision> plan_leaders(const Catalog& catalog, const Policy& policy) {
  const Options& o = policy.options();
  std::vector<Decision> out;
  if (o.max_leader_transfers <= 0) return out;
  std::set<std::string> live;
  for (const auto& n : catalog.nodes) {
    if (n.alive() && !n.draining()) live.insert(n.node_id());
  }
  struct Led {
    const Table* table;
    const Partition* partition;
    std::string leader;
    uint64_t load_x10;
  };
  std::vector<Led> parts;
  std::map<std::string, int64_t> count;     // leaders per node holding replicas
  std::map<std::string, uint64_t> load;     // their load, tenths of a unit per second
  const auto& windows = policy.partitions();
  for (const auto& [_, t] : catalog.tables) {
    if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
    for (const auto& p : t.partitions()) {
      for (const auto& id : p.replica_node_ids()) {
        if (live.count(id)) count.emplace(id, 0), load.emplace(id, 0);
      }
      auto w = windows.find(p.partition_id());
      std::string leader = w != windows.end() ? w->second.leader_node_id : p.leader_node_id();
      const auto& ids = p.replica_node_ids();
      if (leader.empty() || std::find(ids.begin(), ids.end(), leader) == ids.end()) continue;
      uint64_t l = w == windows.end() ? 0
                                      : w->second.avg_read_rate_x10() +
                                            3 * w->second.avg_write_rate_x10();
      parts.push_back({&t, &p, leader, l});
    }
  }
  for (const auto& led : parts) {
    if (count.count(led.leader)) ++count[led.leader], load[led.leader] += led.load_x10;
  }
  if (count.size() < 2) return out;
  const int64_t n = static_cast<int64_t>(count.size());
  const int64_t pct = o.balance_percent;
  std::set<std::string> used;
  auto movable = [&](const Led& led) {
    return !busy(*led.partition) && !pinned(*led.partition, catalog) &&
           !used.count(led.partition->partition_id());
  };
  auto decide = [&](Led& led, const std::string& to, std::string reason) {
    Decision d;
    d.kind = Kind::kTransferLeader;
    d.table_id = led.table->table_id();
    d.table_name = led.table->name();
    d.partition_id = led.partition->partition_id();
    d.from_node_id = led.leader;
    d.to_node_id = to;
    d.reason = std::move(reason);
    --count[led.leader], ++count[to];
    load[led.leader] -= led.load_x10, load[to] += led.load_x10;
    led.leader = to;
    used.insert(d.partition_id);
    out.push_back(std::move(d));
  };
  // The member of `led` in `live` minimizing `key` (ties by id), "" if none but the leader.
  auto best_member = [&](const Led& led, const auto& key) {
    std::string best;
    for (const auto& id : led.partition->replica_node_ids()) {
      if (id == led.leader || !count.count(id)) continue;
      if (best.empty() || std::make_pair(key(id), id) < std::make_pair(key(best), best)) best = id;
    }
    return best;
  };
  auto by_load = [&](const std::string& id) { return load[id]; };
  auto by_count = [&](const std::string& id) { return count[id]; };

  auto load_step = [&]() {
    uint64_t total = 0;
    for (const auto& [_, l] : load) total += l;
    if (total < o.leader_load_floor_units * 10) return false;
    std::string from;
    for (const auto& [id, l] : load) if (from.empty() || l > load[from]) from = id;
    // Above mean by more than pct:  load*n*100 > total*(100+pct).
    if (static_cast<unsigned __int128>(load[from]) * n * 100 <=
        static_cast<unsigned __int128>(total) * (100 + pct)) {
      return false;
    }
    std::vector<Led*> mine;
    for (auto& led : parts) if (led.leader == from && movable(led)) mine.push_back(&led);
    std::stable_sort(mine.begin(), mine.end(),
                     [](const Led* a, const Led* b) { return a->load_x10 > b->load_x10; });
    for (Led* led : mine) {
      if (led->load_x10 == 0) break;
      std::string to = best_member(*led, by_load);
      if (to.empty() || load[to] + led->load_x10 >= load[from]) continue;  // must lower the peak
      decide(*led, to,
             "leader load: " + from + " leads " + format_units_x10(load[from]) +
                 " units/s, fleet mean " + format_units_x10(total / static_cast<uint64_t>(n)) +
                 " (target +" + std::to_string(pct) + "%); " + to + " leads " +
                 format_units_x10(load[to]) + ", this partition " +
                 format_units_x10(led->load_x10));
      return true;
    }
    return false;
  };
  auto count_step = [&]() {
    int64_t total = 0;
    for (const auto& [_, c] : count) total += c;
    auto within = [&](int64_t c) {
      int64_t lhs = c * n * 100 - total * 100;
      return (lhs < 0 ? -lhs : lhs) <= total * pct;
    };
    std::vector<std::string> fullest;
    for (const auto& [id, _] : count) fullest.push_back(id);
    std::stable_sort(fullest.begin(), fullest.end(),
                     [&](const auto& a, const auto& b) { return count[a] > count[b]; });
    for (const auto& from : fullest) {
      if (within(count[from])) break;  // the rest lead fewer
      std::vector<Led*> mine;
      for (auto& led : parts) if (led.leader == from && movable(led)) mine.push_back(&led);
      std::stable_sort(mine.begin(), mine.end(),
                       [](const Led* a, const Led* b) { return a->load_x10 < b->load_x10; });
      for (Led* led : mine) {
        std::string to = best_member(*led, by_count);
        if (to.empty() || count[to] > count[from] - 2) continue;
        const int64_t mean_x10 = total * 10 / n;
        decide(*led, to,
               "leader count: " + from + " leads " + std::to_string(count[from]) + ", " + to +
                   " " + std::to_string(count[to]) + ", mean " +
                   format_units_x10(static_cast<uint64_t>(mean_x10)) + " (target ±" +
                   std::to_string(pct) + "%)");
        return true;
      }
    }
    // Nobody leads too many, but someone may lead too few: it takes the coldest partition of
    // the member leading the most among those holding a replica of it.
    std::vector<std::string> emptiest(fullest.rbegin(), fullest.rend());
    for (const auto& to : emptiest) {
      if (within(count[to])) break;  // the rest lead more
      Led* pick = nullptr;
      for (auto& led : parts) {
        if (!movable(led) || led.leader == to || count[led.leader] < count[to] + 2) continue;
        const auto& ids = led.partition->replica_node_ids();
        if (std::find(ids.begin(), ids.end(), to) == ids.end()) continue;
        if (!pick || count[led.leader] > count[pick->leader] ||
            (count[led.leader] == count[pick->leader] && led.load_x10 < pick->load_x10)) {
          pick = &led;
        }
      }
      if (!pick) continue;
      const std::string from = pick->leader;
      const int64_t mean_x10 = total * 10 / n;
      decide(*pick, to,
             "leader count: " + to + " leads " + std::to_string(count[to]) + ", " + from + " " +
                 std::to_string(count[from]) + ", mean " +
                 format_units_x10(static_cast<uint64_t>(mean_x10)) + " (target ±" +
                 std::to_string(pct) + "%)");
      return true;
    }
    return false;
  };
  while (static_cast<int>(out.size()) < o.max_leader_transfers) {
    bool moved = load_step();
    if (static_cast<int>(out.size()) >= o.max_leader_transfers) break;
    moved = count_step() || moved;
    if (!moved) break;
  }
  return out;
}

// ---- Sizing ------------------------------------------------------------------------------

std::map<std::string, int> desired_nodes(const Catalog& catalog, const Policy& policy) {
  const Options& o = policy.options();
  struct Zone {
    uint64_t nodes = 0;
    uint64_t bytes = 0;
    uint64_t read_x10 = 0;
    uint64_t write_x10 = 0;
  };
  std::map<std::string, Zone> zones;
  for (const auto& n : catalog.nodes) {
    auto& z = zones[n.zone()];
    if (n.alive() && !n.draining()) ++z.nodes;
  }
  const auto& windows = policy.partitions();
  for (const auto& [_, t] : catalog.tables) {
    for (const auto& p : t.partitions()) {
      auto w = windows.find(p.partition_id());
      if (w == windows.end()) continue;
      std::set<std::string> seen;  // one replica per zone by placement; count a zone once
      for (const auto& zone : p.replica_zones()) {
        if (zone.empty() || !seen.insert(zone).second) continue;
        auto& z = zones[zone];
        z.bytes += w->second.size_bytes;
        z.read_x10 += w->second.avg_read_rate_x10();
        z.write_x10 += w->second.avg_write_rate_x10();
      }
    }
  }
  std::map<std::string, int> out;
  for (const auto& [zone, z] : zones) {
    if (zone.empty()) continue;
    uint64_t want = std::max<uint64_t>(1, z.nodes);
    want = std::max(want, ceil_div(z.bytes, o.node_capacity_bytes));
    want = std::max(want, ceil_div(z.read_x10, o.node_read_units * 10));
    want = std::max(want, ceil_div(z.write_x10, o.node_write_units * 10));
    out[zone] = static_cast<int>(std::min<uint64_t>(want, 1000000));
  }
  return out;
}

}  // namespace shoal::autoscaler
