// Fuzz target for libs/expr: every parser, then evaluation of whatever parses, must neither
// crash nor produce an AST that Protobuf cannot read back (recursion limit).
//
// Input: first byte selects the expression kind, the rest is the expression text.
// With clang this is a libFuzzer target (SHOAL_LIBFUZZER); otherwise main() below feeds seeds
// and random token soup for a given number of seconds (default 20).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/expr/eval.h"
#include "shoal/expr/parse.h"

namespace {

using shoal::item::AttributeValue;

shoal::item::Decimal dec(const char* text) {
  shoal::item::Decimal d;
  (void)shoal::item::Decimal::parse(text, &d);
  return d;
}

shoal::expr::Placeholders placeholders() {
  shoal::expr::Placeholders p;
  p.names = {{"#a", "a"}, {"#b", "b"}, {"#k", "pk"}, {"#i", "[1]"}};
  p.values[":s"] = AttributeValue::S("ab");
  p.values[":n"] = AttributeValue::N(dec("1"));
  p.values[":big"] = AttributeValue::N(dec("9.9999999999999999999999999999999999999E+125"));
  p.values[":l"] = AttributeValue::L({AttributeValue::S("x")});
  p.values[":m"] = AttributeValue::M({{"a", AttributeValue::N(dec("2"))}});
  p.values[":ss"] = AttributeValue::SS({"ab", "c"});
  p.values[":ns"] = AttributeValue::NS({dec("1")});
  p.values[":t"] = AttributeValue::S("S");
  return p;
}

shoal::item::Item sample_item() {
  return {{"pk", AttributeValue::S("k")},
          {"a", AttributeValue::M({{"b", AttributeValue::L({AttributeValue::N(dec("3"))})}})},
          {"b", AttributeValue::N(dec("5"))},
          {"l", AttributeValue::L({AttributeValue::S("ab"), AttributeValue::S("c")})},
          {"ss", AttributeValue::SS({"ab"})}};
}

void check_roundtrip(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  std::unique_ptr<google::protobuf::Message> back(m.New());
  if (!back->ParseFromString(bytes)) {
    std::fprintf(stderr, "AST does not parse back (too deep?)\n");
    std::abort();
  }
}

void run_one(const uint8_t* data, size_t size) {
  if (size == 0) return;
  uint8_t kind = data[0] % 4;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  shoal::expr::Placeholders p = placeholders();
  shoal::item::Item item = sample_item();
  switch (kind) {
    case 0: {
      auto c = shoal::expr::parse_condition(text, p);
      if (!c.ok()) return;
      check_roundtrip(*c);
      (void)shoal::expr::evaluate(*c, &item);
      (void)shoal::expr::evaluate(*c, nullptr);
      break;
    }
    case 1: {
      auto u = shoal::expr::parse_update(text, p, {"pk"});
      if (!u.ok()) return;
      check_roundtrip(*u);
      (void)shoal::expr::apply_update(*u, &item);
      shoal::item::Item empty = {{"pk", AttributeValue::S("k")}};
      (void)shoal::expr::apply_update(*u, &empty);
      break;
    }
    case 2: {
      auto proj = shoal::expr::parse_projection(text, p);
      if (!proj.ok()) return;
      check_roundtrip(*proj);
      (void)shoal::expr::project(item, *proj);
      break;
    }
    default: {
      shoal::expr::KeySchema schema{"pk", std::nullopt, "b", std::nullopt};
      auto kc = shoal::expr::parse_key_condition(text, p, schema);
      if (!kc.ok()) return;
      check_roundtrip(*kc);
      (void)shoal::expr::sort_key_matches(*kc, AttributeValue::S("ab"));
      (void)shoal::expr::sort_key_range(*kc);
      break;
    }
  }
  (void)shoal::expr::check_all_used(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run_one(data, size);
  return 0;
}

#ifndef SHOAL_LIBFUZZER
int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 20.0;
  const std::vector<std::string> seeds = {
      "\x00" "a = :s AND (b < :n OR NOT attribute_exists(#a.b[1]))",
      "\x00" "size(a.b) BETWEEN :n AND :n OR contains(l, :s) OR a IN (:s, :n)",
      "\x00" "begins_with(l[0], :s) AND attribute_type(#b, :t)",
      "\x01" "SET a.b[0] = if_not_exists(#b, :n) + :n, l = list_append(l, :l) REMOVE ss",
      "\x01" "ADD b :big, ss :ss DELETE ss :ss SET x = b - :n",
      "\x02" "a.b[0], l[1], #b, ss",
      "\x03" "#k = :s AND b BETWEEN :n AND :big",
      "\x03" "pk = :s AND begins_with(b, :s)",
  };
  static const char* const kVocabulary[] = {
      "a", "b", "l", "ss", "pk", "#a", "#b", "#k", "#i", "#x", ":s", ":n", ":big", ":l", ":m",
      ":ss", ":ns", ":t", ":x", "(", ")", "[", "]", "[0]", "[1]", "[99]", ".", ",", "=", "<>",
      "<", "<=", ">", ">=", "+", "-", "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE",
      "ADD", "DELETE", "size", "contains", "begins_with", "attribute_exists",
      "attribute_not_exists", "attribute_type", "if_not_exists", "list_append", "status",
      "\xff", "_", "#", ":", "0", " "};
  std::mt19937_64 rng(0x5eed);
  auto run = [](const std::string& s) {
    run_one(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  for (const auto& s : seeds) run(s);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t count = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 256; ++batch, ++count) {
      std::string input(1, static_cast<char>(rng() % 4));
      uint64_t mode = rng() % 4;
      if (mode == 0) {
        // Mutate a seed.
        input = seeds[rng() % seeds.size()];
        for (int m = 0, n = 1 + rng() % 4; m < n && input.size() > 1; ++m) {
          size_t at = 1 + rng() % (input.size() - 1);
          input[at] = static_cast<char>(rng());
        }
      } else if (mode == 1) {
        // Random bytes.
        for (int i = 0, n = rng() % 64; i < n; ++i) input += static_cast<char>(rng());
      } else {
        // Token soup, sometimes long and deeply nested.
        int n = mode == 2 ? 1 + rng() % 24 : 1 + rng() % 1500;
        for (int i = 0; i < n; ++i) {
          input += kVocabulary[rng() % (sizeof(kVocabulary) / sizeof(kVocabulary[0]))];
          input += ' ';
        }
      }
      run(input);
    }
  }
  std::printf("expr_fuzz: %llu inputs in %.0f s, no crash\n",
              static_cast<unsigned long long>(count), seconds);
  return 0;
}
#endif
