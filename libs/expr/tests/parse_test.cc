#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace shoal::expr {
namespace {

using namespace testing;  // NOLINT

Placeholders standard() {
  return make_placeholders({{"#n", "name"}, {"#s", "status"}, {"#d", "[3]"}},
                           {{":s", S("x")}, {":t", S("y")}, {":n", N("1")}, {":m", N("5")},
                            {":b", B("ab")}, {":bool", AttributeValue::Bool(true)},
                            {":l", L({N("1")})}, {":map", M({})}, {":ss", SS({"a"})},
                            {":ns", NS({"1"})}, {":null", AttributeValue::Null()},
                            {":type", S("N")}, {":badtype", S("STRING")}});
}

std::string cond_error(const std::string& text) {
  Placeholders p = standard();
  return error_of(parse_condition(text, p));
}

std::string update_error(const std::string& text, std::vector<std::string> keys = {}) {
  Placeholders p = standard();
  return error_of(parse_update(text, p, keys));
}

TEST(ParseCondition, AcceptsTheGrammar) {
  for (const char* text : {
           "a = :s", "a <> :s", "a < :n", "a <= :n", "a > :n", "a >= :n",
           "a BETWEEN :n AND :m", "a between :n and :m", "a IN (:s, :t)", "a in (:s)",
           "attribute_exists(a)", "attribute_not_exists(#n)", "attribute_type(a, :type)",
           "begins_with(a, :s)", "contains(a, :s)", "size(a) > :n", ":n < size(a.b[0])",
           "a = :s AND b = :t OR NOT c = :s", "(a = :s OR b = :t) AND c = :s",
           "NOT (a = :s)", "NOT NOT a = :s", "a.b.c = :s", "a[0][1].b = :s", "#n.x = :s",
           "(a) = :s", "a = b", "  a   =   :s  ", "a=:s", "x_1 = :s",
       }) {
    Placeholders p = standard();
    auto r = parse_condition(text, p);
    EXPECT_TRUE(r.ok()) << text << ": " << error_of(r);
  }
}

TEST(ParseCondition, PrecedenceNotAndOr) {
  Placeholders p = standard();
  auto r = parse_condition("a = :s OR b = :s AND NOT c = :s", p);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_disjunction());
  ASSERT_EQ(r->disjunction().terms_size(), 2);
  EXPECT_TRUE(r->disjunction().terms(0).has_comparison());
  ASSERT_TRUE(r->disjunction().terms(1).has_conjunction());
  EXPECT_TRUE(r->disjunction().terms(1).conjunction().terms(1).has_negation());
}

TEST(ParseCondition, FlattensChains) {
  Placeholders p = standard();
  auto r = parse_condition("a = :s AND b = :s AND (c = :s AND d = :s)", p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->conjunction().terms_size(), 4);
}

TEST(ParseCondition, PathsAndPlaceholders) {
  Placeholders p = standard();
  auto r = parse_condition("#n.a[2] = :s", p);
  ASSERT_TRUE(r.ok());
  const auto& path = r->comparison().lhs().path();
  ASSERT_EQ(path.elements_size(), 3);
  EXPECT_EQ(path.elements(0).name(), "name");
  EXPECT_EQ(path.elements(1).name(), "a");
  EXPECT_EQ(path.elements(2).index(), 2u);
  EXPECT_EQ(p.used_names.count("#n"), 1u);
  EXPECT_EQ(p.used_values.count(":s"), 1u);
  item::AttributeValue v;
  ASSERT_TRUE(item::decode_value(r->comparison().rhs().value(), &v));
  EXPECT_EQ(v, S("x"));
}

TEST(ParseCondition, EmptyAndTooLong) {
  Placeholders p = standard();
  EXPECT_EQ(error_of(parse_condition("", p)),
            "Invalid ConditionExpression: The expression can not be empty;");
  EXPECT_EQ(error_of(parse_condition("", p, "FilterExpression")),
            "Invalid FilterExpression: The expression can not be empty;");
  std::string big = "a = :s";
  big.append(4096, ' ');
  EXPECT_EQ(error_of(parse_condition(big, p)),
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed "
            "size; expression size: 4102");
}

TEST(ParseCondition, SyntaxErrors) {
  EXPECT_EQ(cond_error("foo"), "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", "
                               "near: \"foo\"");
  EXPECT_EQ(cond_error("attribute_not_exists("),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"(\"");
  EXPECT_EQ(cond_error("now()"),
            "Invalid ConditionExpression: Syntax error; token: \")\", near: \"()\"");
  EXPECT_EQ(cond_error("a = = :s"),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :s\"");
  EXPECT_EQ(cond_error("a == :s"),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"== :s\"");
  EXPECT_EQ(cond_error("pk = !!"),
            "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"= !!\"");
  EXPECT_EQ(cond_error("_hidden = :s"),
            "Invalid ConditionExpression: Syntax error; token: \"_\", near: \"_hidden\"");
  for (const char* text : {"a =", "a = :s)", "(a = :s", "a BETWEEN :n :m", "a IN ()", "a IN :s",
                           "a = :s AND", "AND a = :s", "a.= :s", "a[x] = :s", "a[] = :s",
                           "a = :s b = :t", "and = :s", "a[1 = :s", "NOT", "(", ")"}) {
    EXPECT_EQ(cond_error(text).rfind("Invalid ConditionExpression: Syntax error; token: ", 0),
              0u)
        << text << " -> " << cond_error(text);
  }
}

TEST(ParseCondition, ReservedWords) {
  EXPECT_EQ(cond_error("status = :s"), "Invalid ConditionExpression: Attribute name is a "
                                       "reserved keyword; reserved keyword: status");
  EXPECT_EQ(cond_error("a.Name = :s"), "Invalid ConditionExpression: Attribute name is a "
                                       "reserved keyword; reserved keyword: Name");
  EXPECT_EQ(cond_error("#s = :s"), "<ok>");
  EXPECT_TRUE(is_reserved_word("ZONE"));
  EXPECT_TRUE(is_reserved_word("abort"));
  EXPECT_FALSE(is_reserved_word("pk"));
  // Reserved beats an undefined placeholder.
  EXPECT_EQ(cond_error("#zz = :s AND size = :s"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: size");
}

TEST(ParseCondition, UndefinedPlaceholders) {
  EXPECT_EQ(cond_error("a = :nope"),
            "Invalid ConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :nope");
  EXPECT_EQ(cond_error("#nope = :s"),
            "Invalid ConditionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #nope");
}

TEST(ParseCondition, Functions) {
  EXPECT_EQ(cond_error("foo(a)"), "Invalid ConditionExpression: Invalid function name; "
                                  "function: foo");
  EXPECT_EQ(cond_error("ATTRIBUTE_EXISTS(a)"), "Invalid ConditionExpression: Invalid function "
                                               "name; function: ATTRIBUTE_EXISTS");
  EXPECT_EQ(cond_error("if_not_exists(a, :s)"),
            "Invalid ConditionExpression: The function is not allowed in a condition "
            "expression; function: if_not_exists");
  EXPECT_EQ(cond_error("size(a)"), "Invalid ConditionExpression: The function is not allowed "
                                   "to be used this way in an expression; function: size");
  EXPECT_EQ(cond_error("begins_with(a, :s) = :bool"),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an "
            "expression; function: begins_with");
  EXPECT_EQ(cond_error("attribute_exists(a, b)"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or "
            "function; operator or function: attribute_exists, number of operands: 2");
  EXPECT_EQ(cond_error("begins_with(a)"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or "
            "function; operator or function: begins_with, number of operands: 1");
  EXPECT_EQ(cond_error("attribute_exists(:s)"),
            "Invalid ConditionExpression: Operator or function requires a document path; "
            "operator or function: attribute_exists");
  EXPECT_EQ(cond_error("begins_with(a, :n)"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
  EXPECT_EQ(cond_error("attribute_type(a, :n)"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: attribute_type, operand type: N");
  EXPECT_EQ(cond_error("attribute_type(a, :badtype)"),
            "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, "
            "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
  EXPECT_EQ(cond_error("size(:n) > :n"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: size, operand type: N");
  EXPECT_EQ(cond_error("begins_with(a, a)"),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: begins_with, first operand: [a]");
}

TEST(ParseCondition, OperatorChecks) {
  EXPECT_EQ(cond_error("a < :bool"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: <, operand type: BOOL");
  EXPECT_EQ(cond_error("a >= :l"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: >=, operand type: L");
  EXPECT_EQ(cond_error("a = :map"), "<ok>");
  EXPECT_EQ(cond_error("a.b = a.b"),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: =, first operand: [a, b]");
  EXPECT_EQ(cond_error("a BETWEEN :m AND :n"),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, "
            "upper bound operand: AttributeValue: {N:1}");
  EXPECT_EQ(cond_error("a BETWEEN :n AND :s"),
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower "
            "and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
            "AttributeValue: {S:x}");
  EXPECT_EQ(cond_error("a BETWEEN :t AND :s"),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound; lower bound operand: AttributeValue: {S:y}, "
            "upper bound operand: AttributeValue: {S:x}");
  EXPECT_EQ(cond_error("((a = :s))"),
            "Invalid ConditionExpression: The expression has redundant parentheses;");
  EXPECT_EQ(cond_error("((a)) = :s"),
            "Invalid ConditionExpression: The expression has redundant parentheses;");
  EXPECT_EQ(cond_error("(a = :s) AND ((b = :s) OR c = :s)"), "<ok>");
}

TEST(ParseCondition, Limits) {
  std::string in = "a IN (";
  Placeholders p;
  for (int i = 0; i < 101; ++i) {
    std::string key = ":v" + std::to_string(i);
    p.values[key] = N(std::to_string(i));
    in += (i ? ", " : "") + key;
  }
  in += ")";
  EXPECT_EQ(error_of(parse_condition(in, p)),
            "Invalid ConditionExpression: The IN operator is provided with too many operands; "
            "number of operands: 101");

  std::string ops = "a = :s";
  for (int i = 0; i < 300; ++i) ops += " OR a = :s";
  Placeholders p2 = standard();
  EXPECT_EQ(error_of(parse_condition(ops, p2)),
            "Invalid ConditionExpression: The expression contains too many operators; operator "
            "count: 601");

  std::string deep = "a";
  for (int i = 0; i < 32; ++i) deep += ".b";
  EXPECT_EQ(cond_error(deep + " = :s"),
            "Invalid ConditionExpression: The document path has too many nesting levels; "
            "nesting levels: 33");
  EXPECT_EQ(cond_error("a[99999999999] = :s"),
            "Invalid ConditionExpression: List index is not within the allowable range; index: "
            "99999999999");
}

TEST(ParseCondition, DeepNestingDoesNotCrash) {
  Placeholders p = standard();
  std::string open(3000, '(');
  EXPECT_EQ(error_of(parse_condition(open, p)).rfind("Invalid ConditionExpression: ", 0), 0u);
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "NOT ";
  EXPECT_FALSE(parse_condition(nots + "a = :s", p).ok());
  std::string nested = "a = :s";
  for (int i = 0; i < 400; ++i) nested = "(a = :s AND " + nested + ")";
  EXPECT_FALSE(parse_condition(nested.substr(0, 4096), p).ok());
  // Within the limit, the AST round-trips through Protobuf (recursion limit 100).
  std::string ok = "a = :s";
  for (int i = 0; i < kMaxNesting / 2 - 1; ++i) ok = "NOT (a = :s OR b = :s AND " + ok + ")";
  auto r = parse_condition(ok, p);
  ASSERT_TRUE(r.ok()) << error_of(r);
  v1::Condition back;
  EXPECT_TRUE(back.ParseFromString(r->SerializeAsString()));
}

TEST(ParseCondition, NeverCrashesOnGarbage) {
  for (const char* text : {"\xff\xfe", "#", ":", "a[", "a.", "((((", "))))", "a IN (:s,",
                           "size(", "size()", "a BETWEEN", "\xe2\x82", "a = :s\x00b"}) {
    Placeholders p = standard();
    EXPECT_FALSE(parse_condition(text, p).ok()) << text;
  }
}

TEST(Placeholders, UnusedAreReported) {
  Placeholders p = make_placeholders({{"#a", "a"}, {"#b", "b"}}, {{":x", S("1")}, {":y", S("2")}});
  ASSERT_TRUE(parse_condition("#a = :x", p).ok());
  EXPECT_EQ(check_all_used(p).message(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}");
  ASSERT_TRUE(parse_condition("#b = :x", p).ok());
  EXPECT_EQ(check_all_used(p).message(),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}");
  ASSERT_TRUE(parse_condition("#b = :y", p).ok());
  EXPECT_TRUE(check_all_used(p).is_ok());
  Placeholders q = make_placeholders({}, {{":a", S("1")}, {":c", S("2")}});
  EXPECT_EQ(check_all_used(q).message(),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :c}");
}

TEST(Placeholders, AddNamesFromJson) {
  rapidjson::Document d;
  d.Parse(R"({"#a": "alpha", "#b": "beta"})");
  Placeholders p;
  p.add_names(d);
  EXPECT_EQ(p.names.at("#a"), "alpha");
  EXPECT_EQ(p.names.size(), 2u);
}

TEST(ParseUpdate, AcceptsTheGrammar) {
  for (const char* text : {
           "SET a = :s", "set a = :s, b = :n", "SET a = b + :n", "SET a = b - :n",
           "SET a = if_not_exists(a, :n) + :n", "SET a = list_append(a, :l)",
           "SET a = list_append(:l, if_not_exists(a, :l))", "SET a.b[1].c = :s",
           "REMOVE a, b.c, d[1]", "ADD a :n, b :ss", "DELETE a :ss",
           "SET a = :s REMOVE b ADD c :n DELETE d :ns", "remove a set b = :s",
           "SET #n = :s", "SET a = if_not_exists(a, if_not_exists(b, :s))",
       }) {
    Placeholders p = standard();
    auto r = parse_update(text, p);
    EXPECT_TRUE(r.ok()) << text << ": " << error_of(r);
  }
}

TEST(ParseUpdate, Structure) {
  Placeholders p = standard();
  auto r = parse_update("SET a = b + :n, c = :s REMOVE d ADD e :n DELETE f :ss", p);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->set_actions_size(), 2);
  EXPECT_TRUE(r->set_actions(0).value().has_plus());
  EXPECT_TRUE(r->set_actions(1).value().operand().has_value());
  EXPECT_EQ(r->remove_paths_size(), 1);
  EXPECT_EQ(r->add_actions_size(), 1);
  EXPECT_EQ(r->delete_actions_size(), 1);
}

TEST(ParseUpdate, SyntaxErrors) {
  for (const char* text : {"whatever", "set a", "add a", "delete a", "set a=set", "remove a = b",
                           "add a = b", "delete a = b", "delete a b", "delete a if_not_exist(b)",
                           "add abort b", "remove a b", "set a b", "set :a = b", "add :a b",
                           "remove :a", "set a = b / c", "set a = b * c", "set a[1] = \"eight\"",
                           "set a[1] = 1", "SET if_not_exist(a, b) = a", "set (a = (b + c))",
                           "set a = (b.c).d + e", "set a = b + c + d", "   ", "SET a = :s,"}) {
    EXPECT_EQ(update_error(text).rfind("Invalid UpdateExpression: Syntax error; token: ", 0), 0u)
        << text << " -> " << update_error(text);
  }
  EXPECT_EQ(update_error(""), "Invalid UpdateExpression: The expression can not be empty;");
}

TEST(ParseUpdate, Sections) {
  EXPECT_EQ(update_error("set a = :s set c = :s"),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update "
            "expression;");
  EXPECT_EQ(update_error("remove d set a = :s remove e"),
            "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update "
            "expression;");
  EXPECT_EQ(update_error("add d :n set a = :s add e :n"),
            "Invalid UpdateExpression: The \"ADD\" section can only be used once in an update "
            "expression;");
  EXPECT_EQ(update_error("delete d :ss delete e :ss"),
            "Invalid UpdateExpression: The \"DELETE\" section can only be used once in an update "
            "expression;");
  // A reserved word is reported before the duplicate section.
  EXPECT_EQ(update_error(" set #n = :s set abOrt = :s "),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
            "abOrt");
}

TEST(ParseUpdate, PathOverlapAndConflict) {
  EXPECT_EQ(update_error("SET a = :s REMOVE a.b"),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(update_error("set d[1] = a, d.b = a, c[1].a = a, c = if_not_exists(a, :s)"),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [c, [1], a], path two: [c]");
  EXPECT_EQ(update_error("remove a.b set a[1] = :s"),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: [a, b], path two: [a, [1]]");
  EXPECT_EQ(update_error("set c[3].#d = a, c.#d[3] = a"),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: [c, [3], [3]], path two: [c, [3], [3]]");
  EXPECT_EQ(update_error("SET a = :s, a = :t"),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [a], path two: [a]");
  EXPECT_EQ(update_error("SET a.b = :s, a.c = :s, l[0] = :s REMOVE l[1]"), "<ok>");
}

TEST(ParseUpdate, FunctionsAndTypes) {
  EXPECT_EQ(update_error("set a = if_not_exists(a)"),
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
            "operator or function: if_not_exists, number of operands: 1");
  EXPECT_EQ(update_error("set a = list_append(a)"),
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
            "operator or function: list_append, number of operands: 1");
  EXPECT_EQ(update_error("set a = if_not_exists(:s, c)"),
            "Invalid UpdateExpression: Operator or function requires a document path; operator "
            "or function: if_not_exists");
  EXPECT_EQ(update_error("set a = if_not_exist(a, :s)"),
            "Invalid UpdateExpression: Invalid function name; function: if_not_exist");
  EXPECT_EQ(update_error("set a = size(a)"),
            "Invalid UpdateExpression: The function is not allowed in an update expression; "
            "function: size");
  EXPECT_EQ(update_error("set a = list_append(:s, a)"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: list_append, operand type: S");
  EXPECT_EQ(update_error("set a = a + :s"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: S");
  EXPECT_EQ(update_error("set a = :b - a"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: -, operand type: B");
  EXPECT_EQ(update_error("set a = list_append(a, b) + :n"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: L");
  EXPECT_EQ(update_error("add a.b :s"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND");
  EXPECT_EQ(update_error("add a :bool"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: ADD, operand type: BOOLEAN, typeSet: ALLOWED_FOR_ADD_OPERAND");
  EXPECT_EQ(update_error("add a :l"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND");
  EXPECT_EQ(update_error("delete a :n"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND");
  EXPECT_EQ(update_error("delete a :map"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: DELETE, operand type: MAP, typeSet: ALLOWED_FOR_DELETE_OPERAND");
  EXPECT_EQ(update_error("add a :map"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: ADD, operand type: MAP, typeSet: ALLOWED_FOR_ADD_OPERAND");
  EXPECT_EQ(update_error("delete a :s"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: DELETE, operand type: STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND");
  EXPECT_EQ(update_error("delete a :null"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            "operator: DELETE, operand type: NULL, typeSet: ALLOWED_FOR_DELETE_OPERAND");
  // Numbers and sets are accepted by ADD, sets by DELETE.
  EXPECT_EQ(update_error("add a :n, b :ss, c :ns"), "<ok>");
  EXPECT_EQ(update_error("delete a :ss, b :ns"), "<ok>");
  EXPECT_EQ(update_error("SET a = :zz"),
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :zz");
  EXPECT_EQ(update_error("SET #zz = :s"),
            "Invalid UpdateExpression: An expression attribute name used in the document path "
            "is not defined; attribute name: #zz");
}

TEST(ParseUpdate, KeyAttributes) {
  EXPECT_EQ(update_error("SET b = :s, pk = :s", {"pk", "sk"}),
            "One or more parameter values were invalid: Cannot update attribute pk. This "
            "attribute is part of the key");
  EXPECT_EQ(update_error("ADD sk.b :n", {"pk", "sk"}),
            "One or more parameter values were invalid: Cannot update attribute sk. This "
            "attribute is part of the key");
  EXPECT_EQ(update_error("REMOVE pk", {"pk"}),
            "One or more parameter values were invalid: Cannot update attribute pk. This "
            "attribute is part of the key");
  EXPECT_EQ(update_error("SET b = pk", {"pk"}), "<ok>");
}

TEST(ParseProjection, PathsAndErrors) {
  Placeholders p = standard();
  auto r = parse_projection("a, b.c, #n[1], d[0].e", p);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->paths_size(), 4);
  EXPECT_EQ(path_to_string(r->paths(2)), "[name, [1]]");
  EXPECT_EQ(error_of(parse_projection("", p)),
            "Invalid ProjectionExpression: The expression can not be empty;");
  EXPECT_EQ(error_of(parse_projection("a, a.b", p)),
            "Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(error_of(parse_projection("a.b, a[0]", p)),
            "Invalid ProjectionExpression: Two document paths conflict with each other; must "
            "remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]");
  EXPECT_EQ(error_of(parse_projection("a,", p)),
            "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\"");
  EXPECT_EQ(error_of(parse_projection("a b", p)),
            "Invalid ProjectionExpression: Syntax error; token: \"b\", near: \"a b\"");
  EXPECT_EQ(error_of(parse_projection("status", p)),
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: status");
}

TEST(ParseKeyCondition, Shapes) {
  KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  Placeholders p = standard();
  auto r = parse_key_condition("pk = :s", p, schema);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->pk_name(), "pk");
  EXPECT_FALSE(r->has_sort());
  r = parse_key_condition("pk = :s AND sk BETWEEN :n AND :m", p, schema);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->sort().op(), v1::SORT_OP_BETWEEN);
  r = parse_key_condition("(sk >= :n) AND (pk = :s)", p, schema);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->sort().op(), v1::SORT_OP_GE);
  KeySchema str_schema{"pk", item::Type::kS, "sk", item::Type::kS};
  r = parse_key_condition("pk = :s AND begins_with(sk, :t)", p, str_schema);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->sort().op(), v1::SORT_OP_BEGINS_WITH);
}

TEST(ParseKeyCondition, ValueFirst) {
  KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  struct Case {
    const char* text;
    v1::SortOp op;
  };
  // The operator is seen from the key attribute: ":n < sk" is "sk > :n".
  for (const Case& c : {Case{":n < sk AND pk = :s", v1::SORT_OP_GT},
                        Case{":s = pk AND :n < sk", v1::SORT_OP_GT},
                        Case{"pk = :s AND :n <= sk", v1::SORT_OP_GE},
                        Case{"pk = :s AND :n > sk", v1::SORT_OP_LT},
                        Case{"pk = :s AND :n >= sk", v1::SORT_OP_LE},
                        Case{"pk = :s AND :n = sk", v1::SORT_OP_EQ},
                        Case{"(:n = #k) AND (:s = pk)", v1::SORT_OP_EQ}}) {
    Placeholders p = standard();
    p.names["#k"] = "sk";
    auto r = parse_key_condition(c.text, p, schema);
    ASSERT_TRUE(r.ok()) << c.text << ": " << error_of(r);
    EXPECT_EQ(r->pk_name(), "pk") << c.text;
    EXPECT_EQ(r->pk_value(), item::encode_value(S("x"))) << c.text;
    ASSERT_TRUE(r->has_sort()) << c.text;
    EXPECT_EQ(r->sort().sk_name(), "sk") << c.text;
    EXPECT_EQ(r->sort().op(), c.op) << c.text;
    EXPECT_EQ(r->sort().value(), item::encode_value(N("1"))) << c.text;
  }
  Placeholders p = standard();
  auto r = parse_key_condition(":s = pk", p, schema);
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->pk_value(), item::encode_value(S("x")));
  EXPECT_FALSE(r->has_sort());
  // Flipped type checks still apply to the value.
  EXPECT_EQ(error_of(parse_key_condition("pk = :s AND :t < sk", p, schema)),
            "One or more parameter values were invalid: Condition parameter type does not "
            "match schema type");
  // The hash key still needs "=", whichever side the value is on.
  EXPECT_EQ(error_of(parse_key_condition(":s < pk", p, schema)),
            "Query key condition not supported");
}

TEST(ParseKeyCondition, OperandShapeErrors) {
  KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  auto err = [&](const std::string& text) {
    Placeholders p = standard();
    p.values[":a"] = S("1");
    return error_of(parse_key_condition(text, p, schema));
  };
  EXPECT_EQ(err("pk = :s AND size(sk) > :n"),
            "KeyConditionExpressions cannot contain nested operations");
  EXPECT_EQ(err("pk = :s AND :n < size(sk)"),
            "KeyConditionExpressions cannot contain nested operations");
  EXPECT_EQ(err("pk = :s AND sk BETWEEN size(sk) AND :n"),
            "KeyConditionExpressions cannot contain nested operations");
  EXPECT_EQ(err("pk = :s AND sk > size(:a)"),
            "KeyConditionExpressions cannot contain nested operations");
  EXPECT_EQ(err("pk = :s AND begins_with(:a, sk)"),
            "Invalid condition in KeyConditionExpression: begins_with operator must have the "
            "key attribute as its first operand");
  EXPECT_EQ(err("pk = :s AND :n BETWEEN sk AND :n"),
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
            "attribute as its first operand");
  EXPECT_EQ(err("pk = :s AND :n BETWEEN :n AND sk"),
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
            "attribute as its first operand");
  EXPECT_EQ(err("pk = :s AND :n < :n"),
            "Invalid condition in KeyConditionExpression: No key attribute specified");
  EXPECT_EQ(err(":s = :s"),
            "Invalid condition in KeyConditionExpression: No key attribute specified");
  EXPECT_EQ(err("pk = :s AND :n BETWEEN :n AND :m"),
            "Invalid condition in KeyConditionExpression: No key attribute specified");
  EXPECT_EQ(err("pk = :s AND begins_with(:a, :a)"),
            "Invalid condition in KeyConditionExpression: No key attribute specified");
  EXPECT_EQ(err("pk = :s AND sk > v"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition");
  EXPECT_EQ(err("pk = :s AND sk BETWEEN :n AND v"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition");
  EXPECT_EQ(err("pk = :s AND begins_with(sk, v)"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition");
  // Unsupported shapes keep their own messages.
  EXPECT_EQ(err("pk = :s OR :n < sk"), "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(err("pk = :s AND NOT :n < sk"),
            "Invalid operator used in KeyConditionExpression: NOT");
  EXPECT_EQ(err("pk = :s AND :n IN (sk)"), "Invalid operator used in KeyConditionExpression: IN");
  EXPECT_EQ(err("pk = :s AND :n <> sk"), "Invalid operator used in KeyConditionExpression: <>");
  EXPECT_EQ(err("begins_with(pk, :s)"), "Query key condition not supported");
}

TEST(ParseKeyCondition, Errors) {
  KeySchema schema{"pk", item::Type::kS, "sk", item::Type::kN};
  auto err = [&](const std::string& text) {
    Placeholders p = standard();
    return error_of(parse_key_condition(text, p, schema));
  };
  EXPECT_EQ(err("sk = :n"), "Query condition missed key schema element: pk");
  EXPECT_EQ(err("pk = :s OR sk = :n"), "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(err("pk = :s AND NOT sk = :n"),
            "Invalid operator used in KeyConditionExpression: NOT");
  EXPECT_EQ(err("pk IN (:s)"), "Invalid operator used in KeyConditionExpression: IN");
  EXPECT_EQ(err("pk <> :s"), "Invalid operator used in KeyConditionExpression: <>");
  EXPECT_EQ(err("pk = :s AND attribute_exists(sk)"),
            "Invalid operator used in KeyConditionExpression: attribute_exists");
  EXPECT_EQ(err("pk > :s"), "Query key condition not supported");
  EXPECT_EQ(err("pk = :s AND pk = :t"),
            "KeyConditionExpressions must only contain one condition per key");
  EXPECT_EQ(err("pk = :s AND foo = :n"), "Query condition missed key schema element: sk");
  EXPECT_EQ(err("pk.x = :s"),
            "KeyConditionExpressions cannot have conditions on nested attributes");
  EXPECT_EQ(err("pk = :n"), "One or more parameter values were invalid: Condition parameter "
                            "type does not match schema type");
  EXPECT_EQ(err("pk = :s AND begins_with(sk, :t)"),
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
  EXPECT_EQ(err("pk = :s AND sk BETWEEN :m AND :n"),
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
            "greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, "
            "upper bound operand: AttributeValue: {N:1}");
  EXPECT_EQ(err(""), "Invalid KeyConditionExpression: The expression can not be empty;");
}

}  // namespace
}  // namespace shoal::expr
