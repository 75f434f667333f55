// Fuzz target for the router's request parsing: the JSON body (as the router parses it),
// DynamoDB JSON items and values, ExpressionAttributeNames/Values, every expression
// parameter, the legacy conditional parameters, and then evaluation of whatever parsed
// against the parsed item. Nothing may crash, hang or leak.
//
// With clang this is a libFuzzer target (SHOAL_LIBFUZZER); otherwise main() mutates a set of
// real request bodies for a given number of seconds (default 20), so CI can run it anywhere.

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "expressions.h"
#include "legacy.h"

namespace {

using namespace shoal;

uint64_t parsed_bodies = 0;  // inputs that got past JSON parsing (reported by main)

void exercise(const uint8_t* data, size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size);
  rapidjson::Document body;
  body.ParseInsitu(raw.data());  // the router parses request bodies in place
  if (body.HasParseError() || !body.IsObject()) return;
  ++parsed_bodies;

  item::Item item;
  bool have_item = false;
  if (const auto* it = router::member(body, "Item")) have_item = !api::parse_item(*it, &item);
  if (const auto* k = router::member(body, "Key")) {
    item::Item key;
    (void)api::parse_item(*k, &key);
  }

  router::RequestExpressions ex;
  if (ex.load(body)) return;
  std::optional<expr::v1::Condition> cond, filter, legacy;
  std::optional<expr::v1::Update> update;
  std::optional<expr::v1::Projection> projection;
  std::optional<expr::v1::KeyCondition> key_condition;
  (void)ex.condition(body, "ConditionExpression", &cond);
  (void)ex.condition(body, "FilterExpression", &filter);
  (void)ex.update(body, {"pk", "sk"}, &update);
  (void)ex.projection(body, &projection);
  expr::KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  (void)ex.key_condition(body, schema, &key_condition);
  (void)ex.finish({"ConditionExpression", "FilterExpression", "UpdateExpression"});
  (void)router::legacy_condition(body, "Expected", &legacy);
  std::optional<expr::v1::Condition> legacy_filter;
  (void)router::legacy_condition(body, "ScanFilter", &legacy_filter);
  expr::v1::Update legacy_update;
  if (const auto* au = router::member(body, "AttributeUpdates")) {
    (void)router::legacy_update(*au, {"pk"}, &legacy_update);
  }

  const item::Item* target = have_item ? &item : nullptr;
  for (const auto* c : {&cond, &filter, &legacy, &legacy_filter}) {
    if (*c) (void)expr::evaluate(**c, target);
  }
  item::Item copy = have_item ? item : item::Item{};
  if (update) (void)expr::apply_update(*update, &copy);
  (void)expr::apply_update(legacy_update, &copy);
  if (projection && have_item) (void)expr::project(item, *projection);
}

}  // namespace

#ifdef SHOAL_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(data, size);
  return 0;
}
#else
namespace {

const std::vector<std::string> kSeeds = {
    R"({"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1.5"},"l":{"L":[{"S":"x"},{"N":"2"}]},"m":{"M":{"b":{"BOOL":true}}},"ss":{"SS":["a","b"]}},"ConditionExpression":"attribute_not_exists(pk) OR n < :v","ExpressionAttributeValues":{":v":{"N":"3"}}})",
    R"({"Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET #a = list_append(l, :l), n = n + :one REMOVE m.b ADD ss :s DELETE ss :s","ExpressionAttributeNames":{"#a":"a"},"ExpressionAttributeValues":{":l":{"L":[]},":one":{"N":"1"},":s":{"SS":["z"]}},"Item":{"pk":{"S":"a"},"l":{"L":[]},"n":{"N":"0"},"ss":{"SS":["q"]},"m":{"M":{"b":{"NULL":true}}}}})",
    R"({"KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","FilterExpression":"contains(#t, :s) AND size(l) > :a","ProjectionExpression":"l[0], m.b, #t","ExpressionAttributeNames":{"#t":"tags"},"ExpressionAttributeValues":{":p":{"S":"x"},":a":{"N":"1"},":b":{"N":"9"},":s":{"S":"q"}}})",
    R"({"Item":{"pk":{"S":"a"},"v":{"N":"10"}},"Expected":{"v":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"20"}]},"w":{"Exists":false}},"ConditionalOperator":"OR"})",
    R"({"AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"5"}},"l":{"Action":"ADD","Value":{"L":[{"B":"AAE="}]}},"s":{"Action":"DELETE"}},"ScanFilter":{"n":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"N":"5"}]}}})",
    R"({"Item":{"pk":{"S":"a"},"bs":{"BS":["AAE=","AgM="]},"ns":{"NS":["1","-1E+125","0.000001"]}},"AttributesToGet":["bs","ns"]})",
};

const std::vector<std::string> kTokens = {
    "{", "}", "[", "]", ",", ":", "\"", "\"S\"", "\"N\"", "\"L\"", "\"M\"", "\"SS\"", "\"NULL\"",
    "true", "1E+126", "-0", "\"#a\"", "\":v\"", " AND ", " OR ", " NOT ", "(", ")", "[9999]", ".",
    "size(", "if_not_exists(", "attribute_type(", "\\u0000", "\"\"", "99999999999999999999999999999999999999999"};

// Text that stays valid inside a JSON string: expression and number fragments.
const std::vector<std::string> kInString = {
    " AND ", " OR ", "NOT ", "(", ")", "[0]", "[99999999999]", ".", ",", "#a", "#zz", ":v",
    ":one", ":zz", "size(l)", "attribute_exists(", "begins_with(", "contains(", " = ", " <> ",
    " BETWEEN ", " IN (", "SET ", " REMOVE ", " ADD ", " DELETE ", "if_not_exists(n, :one)",
    "list_append(", " + ", " - ", "1E+125", "E-130", "0", "9", "-", "status", "\\u00e9"};

std::string mutate(std::string s, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits; ++i) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    if (rng() % 4 != 0) {  // mostly: edit inside a string literal, keeping the JSON valid
      size_t q = s.find('"', pos);
      if (q != std::string::npos && q + 1 < s.size()) {
        s.insert(q + 1, kInString[rng() % kInString.size()]);
        continue;
      }
    }
    switch (rng() % 4) {
      case 0: if (!s.empty() && pos < s.size()) s[pos] = static_cast<char>(rng() % 256); break;
      case 1: if (!s.empty() && pos < s.size()) s.erase(pos, 1 + rng() % 8); break;
      case 2: s.insert(pos, kTokens[rng() % kTokens.size()]); break;
      case 3: {  // splice a piece of another seed
        const auto& other = kSeeds[rng() % kSeeds.size()];
        size_t a = rng() % other.size(), n = rng() % 64;
        s.insert(pos, other.substr(a, n));
        break;
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 20;
  std::mt19937_64 rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261124);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  uint64_t runs = 0;
  for (const auto& s : kSeeds) exercise(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 256; ++i, ++runs) {
      std::string input = mutate(kSeeds[rng() % kSeeds.size()], rng);
      exercise(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    }
  }
  std::printf("request_fuzz: %llu inputs (%llu valid JSON bodies) in %d s, no crash\n",
              static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(parsed_bodies), seconds);
  return 0;
}
#endif
