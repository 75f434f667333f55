#include <gtest/gtest.h>

#include <string>

#include "shoal/item/key.h"
#include "test_util.h"

namespace shoal::expr {
namespace {

using namespace testing;  // NOLINT

item::Item sample() {
  return {{"pk", S("k")},
          {"s", S("hello")},
          {"n", N("10")},
          {"b", B(std::string("\x01\xff", 2))},
          {"t", AttributeValue::Bool(true)},
          {"z", AttributeValue::Null()},
          {"ss", SS({"a", "b"})},
          {"ns", NS({"1", "2", "3"})},
          {"l", L({S("x"), N("2"), M({{"q", S("r")}})})},
          {"m", M({{"a", S("1")}, {"b", M({{"c", N("3")}})}})},
          {"u", S("h\xc3\xa9")}};
}

Placeholders values() {
  return make_placeholders({{"#s", "s"}},
                           {{":hello", S("hello")}, {":he", S("he")}, {":x", S("x")},
                            {":n10", N("10")}, {":n9", N("9")}, {":n11", N("11")},
                            {":n2", N("2")}, {":n3", N("3")}, {":n0", N("0")},
                            {":t", AttributeValue::Bool(true)}, {":S", S("S")},
                            {":SS", S("SS")}, {":N", S("N")}, {":a", S("a")},
                            {":bin", B(std::string("\x01", 1))},
                            {":ss", SS({"b", "a"})}, {":r", M({{"q", S("r")}})},
                            {":null", AttributeValue::Null()}});
}

bool eval(const std::string& text, const item::Item* item) {
  Placeholders p = values();
  auto c = parse_condition(text, p);
  EXPECT_TRUE(c.ok()) << text << ": " << error_of(c);
  if (!c.ok()) return false;
  auto r = evaluate(*c, item);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() && *r;
}

TEST(Evaluate, Comparisons) {
  item::Item it = sample();
  EXPECT_TRUE(eval("s = :hello", &it));
  EXPECT_FALSE(eval("s = :x", &it));
  EXPECT_TRUE(eval("s <> :x", &it));
  EXPECT_TRUE(eval("n = :n10", &it));
  EXPECT_TRUE(eval("n > :n9", &it));
  EXPECT_TRUE(eval("n >= :n10", &it));
  EXPECT_FALSE(eval("n < :n10", &it));
  EXPECT_TRUE(eval("n <= :n11", &it));
  EXPECT_TRUE(eval("s > :he", &it));
  EXPECT_TRUE(eval("b > :bin", &it));   // unsigned bytes: 0x01 0xff > 0x01
  // Across types: false, never an error.
  EXPECT_FALSE(eval("s = :n10", &it));
  EXPECT_FALSE(eval("s < :n10", &it));
  EXPECT_FALSE(eval("n > :hello", &it));
  EXPECT_TRUE(eval("s <> :n10", &it));
  // Missing attributes.
  EXPECT_FALSE(eval("nope = :x", &it));
  EXPECT_TRUE(eval("nope <> :x", &it));
  EXPECT_FALSE(eval("nope < :x", &it));
  EXPECT_FALSE(eval("s = :hello", nullptr));
  // Deep equality: sets ignore order, maps by name.
  EXPECT_TRUE(eval("ss = :ss", &it));
  EXPECT_TRUE(eval("l[2] = :r", &it));
  EXPECT_TRUE(eval("m.b.c = :n3", &it));
  EXPECT_TRUE(eval("l[1] = :n2", &it));
  EXPECT_FALSE(eval("l[9] = :n2", &it));
  EXPECT_TRUE(eval("z = :null", &it));
  EXPECT_TRUE(eval("t = :t", &it));
  EXPECT_TRUE(eval("pk = pk2 OR #s = :hello", &it));
}

TEST(Evaluate, BetweenAndIn) {
  item::Item it = sample();
  EXPECT_TRUE(eval("n BETWEEN :n9 AND :n11", &it));
  EXPECT_TRUE(eval("n BETWEEN :n10 AND :n10", &it));
  EXPECT_FALSE(eval("n BETWEEN :n0 AND :n9", &it));
  EXPECT_FALSE(eval("s BETWEEN :n0 AND :n9", &it));
  EXPECT_TRUE(eval("n IN (:n9, :n10)", &it));
  EXPECT_FALSE(eval("n IN (:n9, :hello)", &it));
  EXPECT_FALSE(eval("nope IN (:n9)", &it));
}

TEST(Evaluate, LogicalOperators) {
  item::Item it = sample();
  EXPECT_TRUE(eval("s = :x OR n = :n10", &it));
  EXPECT_FALSE(eval("s = :x AND n = :n10", &it));
  EXPECT_TRUE(eval("NOT s = :x", &it));
  EXPECT_TRUE(eval("s = :x OR n = :n10 AND t = :t", &it));
  EXPECT_FALSE(eval("(s = :x OR n = :n10) AND t = :null", &it));
  EXPECT_FALSE(eval("NOT (s = :hello OR s = :x)", &it));
}

TEST(Evaluate, Functions) {
  item::Item it = sample();
  EXPECT_TRUE(eval("attribute_exists(s)", &it));
  EXPECT_TRUE(eval("attribute_exists(m.b.c)", &it));
  EXPECT_FALSE(eval("attribute_exists(m.b.x)", &it));
  EXPECT_TRUE(eval("attribute_not_exists(nope)", &it));
  EXPECT_TRUE(eval("attribute_not_exists(s)", nullptr));
  EXPECT_TRUE(eval("attribute_type(s, :S)", &it));
  EXPECT_TRUE(eval("attribute_type(ss, :SS)", &it));
  EXPECT_FALSE(eval("attribute_type(s, :N)", &it));
  EXPECT_TRUE(eval("begins_with(s, :he)", &it));
  EXPECT_FALSE(eval("begins_with(s, :x)", &it));
  EXPECT_TRUE(eval("begins_with(b, :bin)", &it));
  EXPECT_FALSE(eval("begins_with(n, :he)", &it));
  EXPECT_TRUE(eval("contains(s, :he)", &it));
  EXPECT_TRUE(eval("contains(ss, :a)", &it));
  EXPECT_FALSE(eval("contains(ss, :x)", &it));
  EXPECT_TRUE(eval("contains(ns, :n2)", &it));
  EXPECT_TRUE(eval("contains(l, :x)", &it));
  EXPECT_TRUE(eval("contains(l, :r)", &it));
  EXPECT_FALSE(eval("contains(n, :n10)", &it));
}

TEST(Evaluate, ContainsByType) {
  using std::string;
  item::Item it = {{"s", S("hello")},
                   {"b", B(string("\x01\x02\x03", 3))},
                   {"z", B(string("\x00\xff\x00", 3))},
                   {"bs", AttributeValue::BS({string("\x01", 1), string("\x02\x03", 2)})},
                   {"ss", SS({"ab", "cd"})}};
  auto check = [&](const string& text, AttributeValue v) {
    Placeholders p = make_placeholders({}, {{":v", std::move(v)}});
    auto c = parse_condition(text, p);
    EXPECT_TRUE(c.ok()) << text << ": " << error_of(c);
    if (!c.ok()) return false;
    auto r = evaluate(*c, &it);
    EXPECT_TRUE(r.ok()) << text;
    return r.ok() && *r;
  };
  // S in S: substring.
  EXPECT_TRUE(check("contains(s, :v)", S("ell")));
  EXPECT_TRUE(check("contains(s, :v)", S("hello")));
  EXPECT_FALSE(check("contains(s, :v)", S("hello!")));
  EXPECT_FALSE(check("contains(s, :v)", B("ell")));
  // B in B: contiguous byte subsequence.
  EXPECT_TRUE(check("contains(b, :v)", B(string("\x02\x03", 2))));
  EXPECT_TRUE(check("contains(b, :v)", B(string("\x01", 1))));
  EXPECT_TRUE(check("contains(b, :v)", B(string("\x01\x02\x03", 3))));
  EXPECT_FALSE(check("contains(b, :v)", B(string("\x01\x03", 2))));
  EXPECT_FALSE(check("contains(b, :v)", B(string("\x01\x02\x03\x04", 4))));
  EXPECT_FALSE(check("contains(b, :v)", S(string("\x02\x03", 2))));
  EXPECT_TRUE(check("contains(z, :v)", B(string("\xff\x00", 2))));   // embedded NULs
  // B in a BS: element equality, not subsequence.
  EXPECT_TRUE(check("contains(bs, :v)", B(string("\x02\x03", 2))));
  EXPECT_TRUE(check("contains(bs, :v)", B(string("\x01", 1))));
  EXPECT_FALSE(check("contains(bs, :v)", B(string("\x02", 1))));
  EXPECT_FALSE(check("contains(bs, :v)", S(string("\x01", 1))));
  // S in an SS: element equality.
  EXPECT_TRUE(check("contains(ss, :v)", S("ab")));
  EXPECT_FALSE(check("contains(ss, :v)", S("a")));
}

TEST(Evaluate, Size) {
  item::Item it = sample();
  EXPECT_TRUE(eval("size(s) = :n0 OR size(s) > :n3", &it));
  EXPECT_TRUE(eval("size(ss) = :n2", &it));
  EXPECT_TRUE(eval("size(ns) = :n3", &it));
  EXPECT_TRUE(eval("size(l) = :n3", &it));
  EXPECT_TRUE(eval("size(m) = :n2", &it));
  EXPECT_TRUE(eval("size(b) = :n2", &it));
  EXPECT_TRUE(eval("size(u) = :n3", &it));   // UTF-8 bytes
  EXPECT_FALSE(eval("size(n) = :n2", &it));  // no size: false
  EXPECT_FALSE(eval("size(nope) = :n0", &it));
  EXPECT_TRUE(eval("size(:hello) > :n3", &it));
}

TEST(Evaluate, MalformedAstIsAnError) {
  v1::Condition c;
  EXPECT_FALSE(evaluate(c, nullptr).ok());
  c.mutable_comparison()->set_op(v1::COMPARE_OP_EQ);
  c.mutable_comparison()->mutable_lhs()->set_value("\xff garbage");
  c.mutable_comparison()->mutable_rhs()->set_value("");
  EXPECT_FALSE(evaluate(c, nullptr).ok());
}

// ---- Updates -------------------------------------------------------------------------------

Status update(const std::string& text, item::Item* it, Placeholders p = values()) {
  auto u = parse_update(text, p);
  EXPECT_TRUE(u.ok()) << text << ": " << error_of(u);
  if (!u.ok()) return u.status();
  return apply_update(*u, it);
}

const AttributeValue* get(const item::Item& it, const std::string& name) {
  return item::find_attribute(it, name);
}

TEST(ApplyUpdate, SetAndArithmetic) {
  item::Item it = sample();
  ASSERT_TRUE(update("SET n = n + :n2, x = :hello, s = :x", &it).is_ok());
  EXPECT_EQ(*get(it, "n"), N("12"));
  EXPECT_EQ(*get(it, "x"), S("hello"));
  EXPECT_EQ(*get(it, "s"), S("x"));
  ASSERT_TRUE(update("SET n = :n2 - n", &it).is_ok());
  EXPECT_EQ(*get(it, "n"), N("-10"));
  // Right-hand sides see the item before the update.
  ASSERT_TRUE(update("SET a1 = n, n = :n0", &it).is_ok());
  EXPECT_EQ(*get(it, "a1"), N("-10"));
  ASSERT_TRUE(update("SET c = if_not_exists(c, :n0) + :n2", &it).is_ok());
  EXPECT_EQ(*get(it, "c"), N("2"));
  ASSERT_TRUE(update("SET c = if_not_exists(c, :n0) + :n2", &it).is_ok());
  EXPECT_EQ(*get(it, "c"), N("4"));
}

TEST(ApplyUpdate, NewItemStartsFromKey) {
  item::Item it = {{"pk", S("k")}};
  ASSERT_TRUE(update("SET a = :hello ADD cnt :n2, tags :ss", &it).is_ok());
  EXPECT_EQ(it.size(), 4u);
  EXPECT_EQ(*get(it, "cnt"), N("2"));
  EXPECT_EQ(*get(it, "tags"), SS({"a", "b"}));
}

// The value at a document path written as in an expression ("m.b[1]"), or nullptr.
const AttributeValue* at(const item::Item& it, const std::string& path_text) {
  Placeholders p;
  auto proj = parse_projection(path_text, p);
  EXPECT_TRUE(proj.ok()) << error_of(proj);
  if (!proj.ok()) return nullptr;
  const auto& path = proj->paths(0);
  const AttributeValue* cur = item::find_attribute(it, path.elements(0).name());
  for (int i = 1; cur != nullptr && i < path.elements_size(); ++i) {
    const auto& e = path.elements(i);
    const AttributeValue* next = nullptr;
    if (e.has_name() && cur->type == item::Type::kM) {
      next = item::find_attribute(*cur->map, e.name());
    } else if (e.has_index() && cur->type == item::Type::kL && e.index() < cur->list->size()) {
      next = &(*cur->list)[e.index()];
    }
    cur = next;
  }
  return cur;
}

TEST(ApplyUpdate, NestedPaths) {
  item::Item it = sample();
  const item::Item before = it;
  ASSERT_TRUE(update("SET m.b.d = :x, l[0] = :hello, l[7] = :n9", &it).is_ok());
  EXPECT_EQ(*at(it, "m.b.d"), S("x"));
  EXPECT_EQ(*at(it, "m.b.c"), N("3"));
  EXPECT_EQ(*at(it, "l[0]"), S("hello"));
  EXPECT_EQ(at(it, "l")->list->size(), 4u);   // beyond the end appends
  EXPECT_EQ(*at(it, "l[3]"), N("9"));
  // The original (sharing maps/lists with the copy) is untouched: copy-on-write.
  EXPECT_EQ(*at(before, "l[0]"), S("x"));
  EXPECT_EQ(at(before, "m.b.d"), nullptr);
  EXPECT_EQ(at(before, "l")->list->size(), 3u);
}

TEST(ApplyUpdate, Remove) {
  item::Item it = sample();
  ASSERT_TRUE(update("REMOVE s, m.a, l[0], l[2], nope, m.nope", &it).is_ok());
  EXPECT_EQ(get(it, "s"), nullptr);
  EXPECT_EQ(at(it, "m.a"), nullptr);
  ASSERT_EQ(at(it, "l")->list->size(), 1u);   // indexes refer to the list before the update
  EXPECT_EQ(*at(it, "l[0]"), N("2"));
  ASSERT_TRUE(update("REMOVE l[0]", &it).is_ok());
  EXPECT_EQ(at(it, "l")->list->size(), 0u);
  ASSERT_TRUE(update("REMOVE l[5]", &it).is_ok());
}

TEST(ApplyUpdate, ListAppend) {
  item::Item it = sample();
  Placeholders p = values();
  p.values[":more"] = L({S("y")});
  ASSERT_TRUE(update("SET l = list_append(l, :more), k = list_append(:more, :more)", &it, p)
                  .is_ok());
  EXPECT_EQ(at(it, "l")->list->size(), 4u);
  EXPECT_EQ(*at(it, "l[3]"), S("y"));
  EXPECT_EQ(at(it, "k")->list->size(), 2u);
}

TEST(ApplyUpdate, AddAndDelete) {
  item::Item it = sample();
  Placeholders p = values();
  p.values[":more"] = SS({"b", "c"});
  p.values[":ns"] = NS({"2", "7"});
  ASSERT_TRUE(update("ADD n :n2, ss :more, ns :ns", &it, p).is_ok());
  EXPECT_EQ(*get(it, "n"), N("12"));
  EXPECT_EQ(*get(it, "ss"), SS({"a", "b", "c"}));
  EXPECT_EQ(*get(it, "ns"), NS({"1", "2", "3", "7"}));
  p = values();
  p.values[":del"] = SS({"a", "b", "zz"});
  ASSERT_TRUE(update("DELETE ss :del", &it, p).is_ok());
  EXPECT_EQ(*get(it, "ss"), SS({"c"}));
  p = values();
  p.values[":del"] = SS({"c"});
  ASSERT_TRUE(update("DELETE ss :del", &it, p).is_ok());
  EXPECT_EQ(get(it, "ss"), nullptr);   // the last element removes the attribute
  p = values();
  p.values[":del"] = SS({"c"});
  ASSERT_TRUE(update("DELETE absent :del", &it, p).is_ok());
  ASSERT_TRUE(update("ADD m.b.c :n2", &it).is_ok());
  EXPECT_EQ(*at(it, "m.b.c"), N("5"));
}

TEST(ApplyUpdate, Errors) {
  const std::string kMissing =
      "The provided expression refers to an attribute that does not exist in the item";
  const std::string kInvalidPath =
      "The document path provided in the update expression is invalid for update";
  const std::string kWrongType = "An operand in the update expression has an incorrect data type";
  item::Item it = sample();
  const item::Item before = it;
  EXPECT_EQ(update("SET c = nope", &it).message(), kMissing);
  EXPECT_EQ(update("SET c = list_append(nope, l)", &it).message(), kMissing);
  EXPECT_EQ(update("SET x.y = :x", &it).message(), kInvalidPath);
  EXPECT_EQ(update("SET x[1] = :x", &it).message(), kInvalidPath);
  EXPECT_EQ(update("SET s.y = :x", &it).message(), kInvalidPath);
  EXPECT_EQ(update("SET m[1] = :x", &it).message(), kInvalidPath);
  EXPECT_EQ(update("SET l.y = :x", &it).message(), kInvalidPath);
  EXPECT_EQ(update("REMOVE x.y", &it).message(), kInvalidPath);
  EXPECT_EQ(update("REMOVE m[1]", &it).message(), kInvalidPath);
  EXPECT_EQ(update("ADD x.y :n2", &it).message(), kInvalidPath);
  EXPECT_EQ(update("SET c = s + :n2", &it).message(), kWrongType);
  EXPECT_EQ(update("SET c = list_append(s, l)", &it).message(), kWrongType);
  EXPECT_EQ(update("ADD s :n2", &it).message(), kWrongType);
  EXPECT_EQ(update("ADD ns :ss", &it).message(), kWrongType);
  EXPECT_EQ(update("DELETE n :ss", &it).message(), kWrongType);
  EXPECT_EQ(update("DELETE ns :ss", &it).message(), kWrongType);
  // A failed update leaves the item unchanged, even after earlier actions succeeded.
  EXPECT_EQ(update("SET q = :x, m.b.c = :x ADD s :n2", &it).message(), kWrongType);
  EXPECT_EQ(it, before);
}

TEST(ApplyUpdate, NumberLimits) {
  item::Item it = {{"pk", S("k")}, {"big", N("9.9999999999999999999999999999999999999E+125")},
                   {"tiny", N("1E-130")}, {"p", N("12345678901234567890123456789012345678")}};
  Placeholders p = values();
  p.values[":big"] = N("9.9999999999999999999999999999999999999E+125");
  p.values[":tiny"] = N("1.1E-130");
  p.values[":frac"] = N("0.1");
  EXPECT_EQ(update("SET big = big + :big", &it, p).message(),
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range");
  p = values();
  p.values[":tiny"] = N("1.1E-130");
  EXPECT_EQ(update("SET tiny = tiny - :tiny", &it, p).message(),
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range");
  p = values();
  p.values[":frac"] = N("0.1");
  EXPECT_EQ(update("ADD p :frac", &it, p).message(),
            "Attempting to store more than 38 significant digits in a Number");
}

// ---- Projection ----------------------------------------------------------------------------

item::Item projected(const std::string& text) {
  Placeholders p;
  auto proj = parse_projection(text, p);
  EXPECT_TRUE(proj.ok()) << error_of(proj);
  return proj.ok() ? project(sample(), *proj) : item::Item{};
}

TEST(Project, KeepsStructure) {
  item::Item out = projected("s, m.b.c, l[2].q, l[0], nope, m.nope, l[9]");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, "s");
  EXPECT_EQ(out[1].first, "m");
  EXPECT_EQ(out[1].second, M({{"b", M({{"c", N("3")}})}}));
  EXPECT_EQ(out[2].first, "l");
  // List elements keep their relative order, compacted.
  EXPECT_EQ(out[2].second, L({S("x"), M({{"q", S("r")}})}));
  EXPECT_TRUE(projected("nope").empty());
  EXPECT_EQ(projected("m")[0].second, *get(sample(), "m"));
  EXPECT_TRUE(projected("s.x").empty());
}

// ---- Key conditions ------------------------------------------------------------------------

TEST(KeyCondition, MatchesAndRanges) {
  KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  Placeholders p = values();
  auto kc = parse_key_condition("pk = :hello AND sk BETWEEN :n2 AND :n10", p, schema);
  ASSERT_TRUE(kc.ok()) << error_of(kc);
  EXPECT_TRUE(sort_key_matches(*kc, N("2")));
  EXPECT_TRUE(sort_key_matches(*kc, N("10")));
  EXPECT_FALSE(sort_key_matches(*kc, N("10.5")));
  SortKeyRange r = sort_key_range(*kc);
  ASSERT_TRUE(r.lower && r.upper);
  std::string c3 = item::key_component(N("3"));
  std::string c10 = item::key_component(N("10"));
  std::string c11 = item::key_component(N("11"));
  EXPECT_LE(*r.lower, c3);
  EXPECT_LT(c10, *r.upper);
  EXPECT_GE(c11, *r.upper);

  KeySchema str{"pk", item::Type::kS, "sk", item::Type::kS};
  p = values();
  kc = parse_key_condition("pk = :hello AND begins_with(sk, :he)", p, str);
  ASSERT_TRUE(kc.ok()) << error_of(kc);
  EXPECT_TRUE(sort_key_matches(*kc, S("hello")));
  EXPECT_FALSE(sort_key_matches(*kc, S("hx")));
  r = sort_key_range(*kc);
  EXPECT_EQ(*r.lower, "he");
  EXPECT_EQ(*r.upper, "hf");
  p = values();
  kc = parse_key_condition("pk = :hello AND sk < :he", p, str);
  ASSERT_TRUE(kc.ok());
  r = sort_key_range(*kc);
  EXPECT_FALSE(r.lower);
  EXPECT_EQ(*r.upper, "he");
  EXPECT_TRUE(sort_key_matches(*kc, S("h")));
  EXPECT_FALSE(sort_key_matches(*kc, S("he")));
}

TEST(KeyCondition, ValueFirstMatchesLikeKeyFirst) {
  KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  // ":n3 < sk" selects sk > 3, and so on for each operator.
  struct Case {
    const char* text;
    bool two, three, ten;
  };
  for (const Case& c : {Case{":n3 < sk AND pk = :hello", false, false, true},
                        Case{":hello = pk AND :n3 <= sk", false, true, true},
                        Case{"pk = :hello AND :n3 > sk", true, false, false},
                        Case{"pk = :hello AND :n3 >= sk", true, true, false},
                        Case{"pk = :hello AND :n3 = sk", false, true, false}}) {
    Placeholders p = values();
    auto kc = parse_key_condition(c.text, p, schema);
    ASSERT_TRUE(kc.ok()) << c.text << ": " << error_of(kc);
    EXPECT_EQ(sort_key_matches(*kc, N("2")), c.two) << c.text;
    EXPECT_EQ(sort_key_matches(*kc, N("3")), c.three) << c.text;
    EXPECT_EQ(sort_key_matches(*kc, N("10")), c.ten) << c.text;
    SortKeyRange r = sort_key_range(*kc);
    for (const char* n : {"2", "3", "10"}) {
      std::string k = item::key_component(N(n));
      bool in_range = (!r.lower || *r.lower <= k) && (!r.upper || k < *r.upper);
      EXPECT_EQ(in_range, sort_key_matches(*kc, N(n))) << c.text << " at " << n;
    }
  }
}

}  // namespace
}  // namespace shoal::expr
