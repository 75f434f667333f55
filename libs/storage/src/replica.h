#pragma once
// The replica actor: the only writer of its partition's key range.

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <unordered_map>

#include "shoal/nats/connection.h"
#include "shoal/storage/actors.h"
#include "shoal/storage/node.h"
#include "shoal/store/group_commit.h"

namespace shoal::storage {

// Everything a replica actor needs; owned by StorageNode::Replica, shared with the actor.
struct ReplicaEnv {
  storage::v1::ReplicaRecord record;  // descriptor + state at start
  store::Store* store = nullptr;
  store::GroupCommitter* committer = nullptr;
  store::CfPtr data_cf;
  store::CfPtr log_cf;
  store::CfPtr meta_cf;
  std::shared_ptr<nats::Connection> nats;
  std::shared_ptr<ReplicaCounters> counters;
  size_t log_retention = 1024;
};

struct StorageNode::Replica {
  std::shared_ptr<ReplicaEnv> env;
  caf::actor actor;
};

// Keys of the shared families.
std::string log_key(const std::string& partition_id, uint64_t index);
std::string log_prefix_end(const std::string& partition_id);  // exclusive end of its range
std::string meta_key(const std::string& partition_id);
std::string data_family_name(const std::string& partition_id);

caf::behavior replica_actor(caf::stateful_actor<struct ReplicaState>* self,
                            std::shared_ptr<ReplicaEnv> env);

struct ReplicaState {
  std::shared_ptr<ReplicaEnv> env;
  uint64_t last_index = 0;  // last log index assigned (log -> apply)
  uint64_t item_count = 0;
  // Writes handed to the group commit but not yet durable, by storage key: the image the
  // next write of that key must see as "previous" (nullopt = deleted).
  struct Pending {
    uint64_t index;
    std::optional<std::string> image;
  };
  std::unordered_map<std::string, Pending> pending;
  static inline const char* name = "shoal.replica";
};

}  // namespace shoal::storage
