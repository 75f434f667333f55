// TagResource, UntagResource, ListTagsOfResource, and CreateTable's Tags. A table's tags live
// with it in the metadata catalog; the ARN names the table. Everything about the request is
// checked before the table is looked up, as DynamoDB does.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "control.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

constexpr size_t kMaxTags = 50;
constexpr size_t kMaxKeyChars = 128;
constexpr size_t kMaxValueChars = 256;
constexpr std::string_view kTooManyTags =
    "Number of Tags exceed the current limit for the provided ResourceArn";

// Counts the code points of `s` and says whether every one is allowed in a tag: letters and
// digits of any script, white space, and _ . : / = + - @ (AWS's tag pattern
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$). Other ASCII punctuation and emoji are refused; other
// non-ASCII characters are taken as letters.
bool tag_chars(std::string_view s, size_t* chars) {
  *chars = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    ++*chars;
    if (c < 0x80) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == ' ' || std::string_view("_.:/=+-@").find(static_cast<char>(c)) !=
                                std::string_view::npos;
      if (!ok) return false;
      ++i;
      continue;
    }
    int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    uint32_t cp = c & (0x3f >> (len - 1));
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    if (cp >= 0x1f000 || (cp >= 0x2600 && cp <= 0x27bf)) return false;  // emoji, symbols
    i += len;
  }
  return true;
}

std::optional<api::ApiError> check_key(std::string_view key) {
  size_t n = 0;
  if (!tag_chars(key, &n) || n < 1 || n > kMaxKeyChars) {
    return errors::validation("The Tag Key provided is invalid, Key: " + std::string(key));
  }
  return std::nullopt;
}

// Validates a Tags list (TagResource, CreateTable) into `out`.
std::optional<api::ApiError> parse_tags(const rapidjson::Value& tags,
                                        google::protobuf::RepeatedPtrField<meta::v1::Tag>* out) {
  if (!tags.IsArray()) return errors::wrong_json_type("List");
  if (tags.Size() > kMaxTags) return errors::validation(std::string(kTooManyTags));
  std::set<std::string> seen;
  for (const auto& t : tags.GetArray()) {
    if (!t.IsObject()) return errors::wrong_json_type("Tag");
    const auto* key = member(t, "Key");
    const auto* value = member(t, "Value");
    if ((key && !key->IsString()) || (value && !value->IsString())) {
      return errors::wrong_json_type("String");
    }
    if (!key) return errors::validation("The Tag Key provided is invalid, Key: null");
    std::string k(key->GetString(), key->GetStringLength());
    if (auto e = check_key(k)) return e;
    if (k.starts_with("aws:")) {
      return errors::validation("Tag Key cannot be prefixed with aws:, Key: " + k);
    }
    if (!value) return errors::validation("The Tag Value provided is invalid, Value: null");
    std::string v(value->GetString(), value->GetStringLength());
    size_t n = 0;
    if (!tag_chars(v, &n) || n > kMaxValueChars) {
      return errors::validation("The Tag Value provided is invalid, Value: " + v);
    }
    if (!seen.insert(k).second) {
      return errors::validation(
          "Duplicate Tag Keys provided as input: Duplicate Tag Key found " + k);
    }
    auto* tag = out->Add();
    tag->set_key(std::move(k));
    tag->set_value(std::move(v));
  }
  return std::nullopt;
}

// ResourceArn -> table name. `arn` is set for the not-found message.
std::optional<api::ApiError> table_from_arn(const Router::Impl& r, const rapidjson::Value& body,
                                            std::string* arn, std::string* name) {
  const auto* v = member(body, "ResourceArn");
  if (!v) return errors::validation("Invalid TableArn");
  if (!v->IsString()) return errors::wrong_json_type("String");
  *arn = std::string(v->GetString(), v->GetStringLength());
  auto invalid = [&] {
    return errors::validation("Invalid TableArn: Invalid ResourceArn provided as input " + *arn);
  };
  // arn:aws:dynamodb:<region>:<account digits>:table/<name>
  constexpr std::string_view kPrefix = "arn:aws:dynamodb:";
  std::string_view s(*arn);
  if (!s.starts_with(kPrefix)) return invalid();
  s.remove_prefix(kPrefix.size());
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return invalid();
  std::string_view region = s.substr(0, colon);
  s.remove_prefix(colon + 1);
  colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return invalid();
  std::string_view account = s.substr(0, colon);
  if (account.find_first_not_of("0123456789") != std::string_view::npos) return invalid();
  s.remove_prefix(colon + 1);
  constexpr std::string_view kTable = "table/";
  if (!s.starts_with(kTable)) return invalid();
  s.remove_prefix(kTable.size());
  bool name_ok = s.size() >= 3 && s.size() <= 255 &&
                 s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_.-") == std::string_view::npos;
  if (!name_ok || region != r.options.region) return invalid();
  // Another account's table is not one this endpoint can see.
  if (account != r.options.account_id) return errors::resource_arn_not_found(*arn);
  *name = std::string(s);
  return std::nullopt;
}

// The common answer to a tag RPC's failure.
void fail_tag_call(const CallPtr& call, const Status& st, const std::string& arn,
                   const std::string& name) {
  if (st.code() == Code::kNotFound) return call->fail(errors::resource_arn_not_found(arn));
  if (st.code() == Code::kFailedPrecondition) {
    return call->fail(errors::table_in_use(name, st.message()));
  }
  call->fail(errors::from_status(st));
}

}  // namespace

void handle_tag_resource(Router::Impl& r, const CallPtr& call) {
  std::string arn, name;
  if (auto e = table_from_arn(r, call->body, &arn, &name)) return call->fail(*e);
  meta::v1::TagResourceRequest req;
  req.set_name(name);
  const auto* tags = member(call->body, "Tags");
  if (tags && !tags->IsArray()) return call->fail(errors::wrong_json_type("List"));
  if (!tags || tags->Empty()) {
    return call->fail(errors::validation("Atleast one Tag needs to be provided as Input."));
  }
  if (auto e = parse_tags(*tags, req.mutable_tags())) return call->fail(*e);
  r.meta_rpc(subjects::Subjects::kTagResource, req, [call, arn, name](Result<std::string> reply) {
    with_meta_reply<meta::v1::TagResourceResponse>(
        reply, [&](const meta::v1::TagResourceResponse&) { call->ok(""); },
        [&](const Status& st) { fail_tag_call(call, st, arn, name); });
  });
}

void handle_untag_resource(Router::Impl& r, const CallPtr& call) {
  std::string arn, name;
  if (auto e = table_from_arn(r, call->body, &arn, &name)) return call->fail(*e);
  meta::v1::UntagResourceRequest req;
  req.set_name(name);
  const auto* keys = member(call->body, "TagKeys");
  if (keys && !keys->IsArray()) return call->fail(errors::wrong_json_type("List"));
  if (!keys || keys->Empty()) {
    return call->fail(errors::validation("Atleast one Tag Key needs to be provided as Input."));
  }
  if (keys->Size() > kMaxTags) return call->fail(errors::validation(std::string(kTooManyTags)));
  for (const auto& k : keys->GetArray()) {
    if (!k.IsString()) return call->fail(errors::wrong_json_type("String"));
    std::string key(k.GetString(), k.GetStringLength());
    if (auto e = check_key(key)) return call->fail(*e);
    req.add_tag_keys(std::move(key));
  }
  r.meta_rpc(subjects::Subjects::kUntagResource, req, [call, arn, name](Result<std::string> reply) {
    with_meta_reply<meta::v1::UntagResourceResponse>(
        reply, [&](const meta::v1::UntagResourceResponse&) { call->ok(""); },
        [&](const Status& st) { fail_tag_call(call, st, arn, name); });
  });
}

void handle_list_tags_of_resource(Router::Impl& r, const CallPtr& call) {
  std::string arn, name;
  if (auto e = table_from_arn(r, call->body, &arn, &name)) return call->fail(*e);
  if (const auto* token = member(call->body, "NextToken"); token && !token->IsString()) {
    return call->fail(errors::wrong_json_type("String"));
  }
  meta::v1::ListTagsOfResourceRequest req;
  req.set_name(name);
  // At most 50 tags: one page, so never a NextToken.
  r.meta_rpc(subjects::Subjects::kListTagsOfResource, req,
             [call, arn, name](Result<std::string> reply) {
               with_meta_reply<meta::v1::ListTagsOfResourceResponse>(
                   reply,
                   [&](const meta::v1::ListTagsOfResourceResponse& resp) {
                     reply_json(call, [&](api::JsonWriter& w) {
                       w.StartObject();
                       w.Key("Tags");
                       w.StartArray();
                       for (const auto& t : resp.tags()) {
                         w.StartObject();
                         w.Key("Key");
                         w.String(t.key().data(), static_cast<rapidjson::SizeType>(t.key().size()));
                         w.Key("Value");
                         w.String(t.value().data(),
                                  static_cast<rapidjson::SizeType>(t.value().size()));
                         w.EndObject();
                       }
                       w.EndArray();
                       w.EndObject();
                     });
                   },
                   [&](const Status& st) { fail_tag_call(call, st, arn, name); });
             });
}

std::optional<api::ApiError> create_table_extras(const rapidjson::Value& body,
                                                 meta::v1::Table* table) {
  if (const auto* tags = member(body, "Tags")) {
    // An empty list is accepted here, unlike TagResource.
    if (auto e = parse_tags(*tags, table->mutable_tags())) return e;
  }
  if (const auto* protection = member(body, "DeletionProtectionEnabled")) {
    if (!protection->IsBool()) return errors::wrong_json_type("Boolean");
    table->set_deletion_protection_enabled(protection->GetBool());
  }
  return std::nullopt;
}

}  // namespace shoal::router
