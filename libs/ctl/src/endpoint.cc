#include "shoal/ctl/endpoint.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace shoal::ctl {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
    i += 2;
  }
  return out;
}
}  // namespace

std::optional<std::string> partitions_path_table(std::string_view target) {
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target.substr(0, kAdminTablesPrefix.size()) != kAdminTablesPrefix) return std::nullopt;
  target.remove_prefix(kAdminTablesPrefix.size());
  constexpr std::string_view kTail = "/partitions";
  if (target.size() <= kTail.size() || target.substr(target.size() - kTail.size()) != kTail) {
    return std::nullopt;
  }
  target.remove_suffix(kTail.size());
  if (target.find('/') != std::string_view::npos) return std::nullopt;
  auto name = percent_decode(target);
  if (!name || name->empty()) return std::nullopt;
  return name;
}

std::string error_json(std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

PartitionsEndpoint::PartitionsEndpoint(std::shared_ptr<nats::Connection> nats,
                                       subjects::Subjects subjects, ClientOptions options,
                                       size_t max_queued)
    : client_(std::move(nats), std::move(subjects), options), max_queued_(max_queued),
      worker_([this] { run(); }) {}

PartitionsEndpoint::~PartitionsEndpoint() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void PartitionsEndpoint::handle(std::string_view target, std::function<void(AdminAnswer)> done) {
  auto table = partitions_path_table(target);
  if (!table) return done({404, error_json("not found"), "application/json"});
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < max_queued_) {
      queue_.push_back(Job{std::move(*table), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done({503, error_json("too many admin requests queued"), "application/json"});
}

void PartitionsEndpoint::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (stopping_) {
        lock.unlock();
        job.done({503, error_json("stopping"), "application/json"});
        continue;
      }
    }
    auto r = client_.table_with_stats(job.table);
    if (r.ok()) {
      job.done({200, partitions_json(r->table, r->stats), "application/json"});
    } else if (r.status().code() == Code::kNotFound) {
      job.done({404, error_json(r.status().message()), "application/json"});
    } else {
      job.done({503, error_json(r.status().to_string()), "application/json"});
    }
  }
}

}  // namespace shoal::ctl
