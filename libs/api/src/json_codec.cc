#include "shoal/api/json_codec.h"

#include <algorithm>
#include <unordered_set>

namespace shoal::api {
namespace {

using item::AttributeValue;
using item::Type;

std::string_view sv(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

struct TypeTag {
  std::string_view name;
  Type type;
};
constexpr TypeTag kTags[] = {
    {"S", Type::kS},   {"N", Type::kN},     {"B", Type::kB},   {"BOOL", Type::kBool},
    {"NULL", Type::kNull}, {"M", Type::kM}, {"L", Type::kL},   {"SS", Type::kSS},
    {"NS", Type::kNS}, {"BS", Type::kBS},
};

std::optional<Type> tag_type(std::string_view name) {
  for (const auto& t : kTags)
    if (t.name == name) return t.type;
  return std::nullopt;
}

std::optional<ApiError> parse_number(const rapidjson::Value& v, item::Decimal* out) {
  if (!v.IsString()) return errors::wrong_json_type("String");
  auto e = item::Decimal::parse(sv(v), out);
  if (e != item::DecimalError::kNone) return errors::number(e, sv(v));
  return std::nullopt;
}

std::optional<ApiError> parse_set(Type t, const rapidjson::Value& v, AttributeValue* out) {
  if (!v.IsArray()) return errors::wrong_json_type("List");
  if (v.Empty()) return errors::empty_set(t);
  out->type = t;
  if (t == Type::kNS) {
    out->numbers.reserve(v.Size());
    for (const auto& e : v.GetArray()) {
      item::Decimal d;
      if (auto err = parse_number(e, &d)) return err;
      out->numbers.push_back(std::move(d));
    }
    auto sorted = out->numbers;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return errors::duplicate_set_members(t, {});
    return std::nullopt;
  }
  out->strings.reserve(v.Size());
  std::vector<std::string> shown;
  for (const auto& e : v.GetArray()) {
    if (!e.IsString()) return errors::wrong_json_type("String");
    if (t == Type::kBS) {
      std::string raw;
      if (!base64_decode(sv(e), &raw)) return errors::invalid_base64();
      out->strings.push_back(std::move(raw));
    } else {
      out->strings.emplace_back(sv(e));
    }
    shown.emplace_back(sv(e));
  }
  std::unordered_set<std::string_view> seen;
  for (const auto& s : out->strings)
    if (!seen.insert(s).second) return errors::duplicate_set_members(t, shown);
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_value(const rapidjson::Value& json, AttributeValue* out,
                                    int depth) {
  if (!json.IsObject()) return errors::wrong_json_type("AttributeValue");
  if (depth > kMaxNestingDepth) return errors::nesting_too_deep();
  const rapidjson::Value* body = nullptr;
  Type type = Type::kNull;
  int count = 0;
  for (auto it = json.MemberBegin(); it != json.MemberEnd(); ++it) {
    auto t = tag_type(sv(it->name));
    if (!t) return errors::serialization("Unexpected field type");
    if (it->value.IsNull()) continue;  // SDKs may send explicit nulls for unset members
    ++count;
    body = &it->value;
    type = *t;
  }
  if (count == 0) return errors::empty_attribute_value();
  if (count > 1) return errors::multiple_datatypes();
  const auto& v = *body;
  switch (type) {
    case Type::kS:
      if (!v.IsString()) return errors::wrong_json_type("String");
      *out = AttributeValue::S(std::string(sv(v)));
      return std::nullopt;
    case Type::kN: {
      item::Decimal d;
      if (auto err = parse_number(v, &d)) return err;
      *out = AttributeValue::N(std::move(d));
      return std::nullopt;
    }
    case Type::kB: {
      if (!v.IsString()) return errors::wrong_json_type("Blob");
      std::string raw;
      if (!base64_decode(sv(v), &raw)) return errors::invalid_base64();
      *out = AttributeValue::B(std::move(raw));
      return std::nullopt;
    }
    case Type::kBool:
      if (!v.IsBool()) return errors::wrong_json_type("Boolean");
      *out = AttributeValue::Bool(v.GetBool());
      return std::nullopt;
    case Type::kNull:
      if (!v.IsBool()) return errors::wrong_json_type("Boolean");
      if (!v.GetBool()) return errors::null_must_be_true();
      *out = AttributeValue::Null();
      return std::nullopt;
    case Type::kM: {
      if (!v.IsObject()) return errors::wrong_json_type("Map");
      item::AttributeMap m;
      m.reserve(v.MemberCount());
      for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
        AttributeValue child;
        if (auto err = parse_value(it->value, &child, depth + 1)) return err;
        m.emplace_back(std::string(sv(it->name)), std::move(child));
      }
      *out = AttributeValue::M(std::move(m));
      return std::nullopt;
    }
    case Type::kL: {
      if (!v.IsArray()) return errors::wrong_json_type("List");
      item::AttributeList l;
      l.reserve(v.Size());
      for (const auto& e : v.GetArray()) {
        AttributeValue child;
        if (auto err = parse_value(e, &child, depth + 1)) return err;
        l.push_back(std::move(child));
      }
      *out = AttributeValue::L(std::move(l));
      return std::nullopt;
    }
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      *out = AttributeValue{};
      return parse_set(type, v, out);
  }
  return errors::empty_attribute_value();
}

std::optional<ApiError> parse_item(const rapidjson::Value& json, item::Item* out) {
  if (!json.IsObject()) return errors::wrong_json_type("Map");
  out->clear();
  out->reserve(json.MemberCount());
  for (auto it = json.MemberBegin(); it != json.MemberEnd(); ++it) {
    AttributeValue v;
    if (auto err = parse_value(it->value, &v, 1)) return err;
    out->emplace_back(std::string(sv(it->name)), std::move(v));
  }
  return std::nullopt;
}

void write_value(JsonWriter& w, const AttributeValue& v) {
  auto str = [&](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key(item::type_name(v.type));
  switch (v.type) {
    case Type::kS: str(v.bytes); break;
    case Type::kN: str(v.number.to_string()); break;
    case Type::kB: str(base64_encode(v.bytes)); break;
    case Type::kBool: w.Bool(v.boolean); break;
    case Type::kNull: w.Bool(true); break;
    case Type::kM: write_item(w, *v.map); break;
    case Type::kL:
      w.StartArray();
      for (const auto& e : *v.list) write_value(w, e);
      w.EndArray();
      break;
    case Type::kSS:
      w.StartArray();
      for (const auto& s : v.strings) str(s);
      w.EndArray();
      break;
    case Type::kBS:
      w.StartArray();
      for (const auto& s : v.strings) str(base64_encode(s));
      w.EndArray();
      break;
    case Type::kNS:
      w.StartArray();
      for (const auto& n : v.numbers) str(n.to_string());
      w.EndArray();
      break;
  }
  w.EndObject();
}

void write_item(JsonWriter& w, const item::Item& item) {
  w.StartObject();
  for (const auto& [name, value] : item) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    write_value(w, value);
  }
  w.EndObject();
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_index(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    uint32_t n = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8) | uint8_t(raw[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i + 1 == raw.size()) {
    uint32_t n = uint8_t(raw[i]) << 16;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == raw.size()) {
    uint32_t n = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int a = b64_index(text[i]), b = b64_index(text[i + 1]);
    if (a < 0 || b < 0) return false;
    bool last = i + 4 == text.size();
    int c = text[i + 2] == '=' && last ? -2 : b64_index(text[i + 2]);
    int d = text[i + 3] == '=' && last ? -2 : b64_index(text[i + 3]);
    if (c == -1 || d == -1 || (c == -2 && d != -2)) return false;
    uint32_t n = (a << 18) | (b << 12) | ((c < 0 ? 0 : c) << 6) | (d < 0 ? 0 : d);
    out->push_back(char((n >> 16) & 0xff));
    if (c >= 0) out->push_back(char((n >> 8) & 0xff));
    if (d >= 0) out->push_back(char(n & 0xff));
  }
  return true;
}

}  // namespace shoal::api
