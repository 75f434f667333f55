#include "workload.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>

namespace shoal::bench {

std::optional<Workload> parse_workload(std::string_view name) {
  if (name == "load") return Workload::kLoad;
  if (name == "a") return Workload::kA;
  if (name == "b") return Workload::kB;
  if (name == "c") return Workload::kC;
  if (name == "f") return Workload::kF;
  if (name == "put") return Workload::kPut;
  return std::nullopt;
}

std::string_view workload_name(Workload w) {
  switch (w) {
    case Workload::kLoad: return "load";
    case Workload::kA: return "a";
    case Workload::kB: return "b";
    case Workload::kC: return "c";
    case Workload::kF: return "f";
    case Workload::kPut: return "put";
  }
  return "?";
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kRead: return "READ";
    case Op::kUpdate: return "UPDATE";
    case Op::kInsert: return "INSERT";
    case Op::kReadModifyWrite: return "READ-MODIFY-WRITE";
  }
  return "?";
}

Mix mix_of(Workload w) {
  switch (w) {
    case Workload::kLoad: return {.insert = 1};
    case Workload::kA: return {.read = 0.5, .update = 0.5};
    case Workload::kB: return {.read = 0.95, .update = 0.05};
    case Workload::kC: return {.read = 1};
    case Workload::kF: return {.read = 0.5, .read_modify_write = 0.5};
    case Workload::kPut: return {.insert = 1};
  }
  return {};
}

Op choose_op(const Mix& mix, double u) {
  if (u < mix.read) return Op::kRead;
  u -= mix.read;
  if (u < mix.update) return Op::kUpdate;
  u -= mix.update;
  if (u < mix.insert) return Op::kInsert;
  if (mix.read_modify_write > 0) return Op::kReadModifyWrite;
  // Rounding left u just past the last nonzero share.
  if (mix.insert > 0) return Op::kInsert;
  return mix.update > 0 ? Op::kUpdate : Op::kRead;
}

std::string record_key(uint64_t id) { return "user" + std::to_string(fnv_hash64(id)); }

ValuePool::ValuePool(size_t size, uint64_t seed) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+=:;,!@$%^&*()[]{}<>?";
  Rng rng(seed);
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  data_.resize(std::max<size_t>(size, 2));
  for (char& c : data_) c = kAlphabet[pick(rng)];
}

std::string_view ValuePool::take(Rng& rng, size_t n) const {
  n = std::min(n, data_.size());
  const size_t start = std::uniform_int_distribution<size_t>(0, data_.size() - n)(rng);
  return std::string_view(data_).substr(start, n);
}

namespace {
void append_table(std::string& out, std::string_view table) {
  out.append(R"({"TableName":")").append(table).append(R"(",)");
}
}  // namespace

std::string put_item_body(std::string_view table, std::string_view key, const ItemShape& shape,
                          const ValuePool& pool, Rng& rng) {
  std::string out;
  const size_t field = shape.field_size();
  out.reserve(96 + table.size() + key.size() + shape.fields * (field + 24));
  append_table(out, table);
  out.append(R"("Item":{"pk":{"S":")").append(key).append("\"}");
  for (int i = 0; i < shape.fields; ++i) {
    out.append(",\"field").append(std::to_string(i)).append(R"(":{"S":")");
    out.append(pool.take(rng, field)).append("\"}");
  }
  out.append("}}");
  return out;
}

std::string get_item_body(std::string_view table, std::string_view key, bool consistent) {
  std::string out;
  append_table(out, table);
  out.append(R"("Key":{"pk":{"S":")").append(key).append("\"}}");
  if (consistent) out.append(R"(,"ConsistentRead":true)");
  out.push_back('}');
  return out;
}

std::string update_item_body(std::string_view table, std::string_view key, int field,
                             std::string_view value) {
  std::string out;
  out.reserve(128 + table.size() + key.size() + value.size());
  append_table(out, table);
  out.append(R"("Key":{"pk":{"S":")").append(key).append("\"}},");
  out.append(R"("UpdateExpression":"SET #f = :v",)");
  out.append(R"("ExpressionAttributeNames":{"#f":"field)").append(std::to_string(field));
  out.append(R"("},"ExpressionAttributeValues":{":v":{"S":")").append(value).append("\"}}}");
  return out;
}

std::string create_table_body(std::string_view table) {
  std::string out;
  out.append(R"({"TableName":")").append(table).append(R"(",)");
  out.append(R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)");
  out.append(R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)");
  out.append(R"("BillingMode":"PAY_PER_REQUEST"})");
  return out;
}

std::string describe_table_body(std::string_view table) {
  return std::string(R"({"TableName":")").append(table).append("\"}");
}

std::optional<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  if (url.empty() || url.find('/') != std::string_view::npos) return std::nullopt;
  Endpoint e;
  e.host_header = std::string(url);
  const size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || url.find(']', colon) != std::string_view::npos) {
    e.host = std::string(url);
  } else {
    e.host = std::string(url.substr(0, colon));
    const std::string_view port = url.substr(colon + 1);
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
      return std::nullopt;
    }
    e.port = static_cast<uint16_t>(p);
  }
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  if (e.host.empty()) return std::nullopt;
  return e;
}

http::Request build_request(std::string_view method, std::string_view target,
                            std::string_view host_header, const http::Fields& headers,
                            std::string body) {
  http::Request req;
  req.method = std::string(method);
  req.target = std::string(target);
  req.headers.add("Host", host_header);
  for (const auto& [name, value] : headers) req.headers.add(name, value);
  req.body = std::move(body);
  return req;
}

http::Request dynamodb_request(std::string_view host_header, std::string_view operation,
                               std::string body) {
  std::string target = "DynamoDB_20120810.";
  target.append(operation);
  return build_request("POST", "/", host_header,
                       {{"Content-Type", "application/x-amz-json-1.0"},
                        {"X-Amz-Target", std::move(target)}},
                       std::move(body));
}

void sign_request(http::Request& req, const SigningConfig& config,
                  std::chrono::sys_seconds time) {
  auth::sign(req, config.credentials, config.region, config.service, time);
}

std::string classify_error(unsigned status, std::string_view body) {
  if (status >= 200 && status < 300) return {};
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("__type");
    if (it != doc.MemberEnd() && it->value.IsString()) {
      std::string_view type(it->value.GetString(), it->value.GetStringLength());
      const size_t hash = type.rfind('#');
      if (hash != std::string_view::npos) type.remove_prefix(hash + 1);
      if (!type.empty()) return std::string(type);
    }
  }
  return "HTTP " + std::to_string(status);
}

}  // namespace shoal::bench
