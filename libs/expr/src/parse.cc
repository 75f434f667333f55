// Recursive-descent parser for DynamoDB expressions.
//
// A syntax error stops the parse at once ("Syntax error; token: ..., near: ..."). Every other
// problem is recorded under a category and the parse continues, because DynamoDB reports them
// in a fixed priority order, not in text order (e.g. a reserved word beats an undefined
// placeholder wherever both occur). Recursion depth is bounded by kMaxNesting.
//
// Known differences from DynamoDB (not verified against the service, or ours by design):
// - the nesting bound (kMaxNesting) and its message are ours; DynamoDB documents none;
// - the syntax error's "near" text is approximated as previous token .. next token;
// - operand types in comparator/function messages use short names (S, N, BOOL, L, M);
// - identifiers must start with a letter ("_x" is a syntax error on token "_");
// - parentheses around SET operands ("SET a = (b + c)") are a syntax error;
// - key-condition messages for non-key attributes are best guesses, and so is the order of
//   the operand-shape checks when a term breaks several rules at once (size() first, then
//   "No key attribute specified" / "Multiple attribute names", then the first-operand rule
//   of BETWEEN and begins_with).

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lexer.h"
#include "shoal/expr/parse.h"
#include "values.h"

namespace shoal::expr {
namespace {

using internal::iequals;
using internal::Tok;
using internal::Token;

// Priority order of non-syntax errors, highest first.
enum class Cat {
  kParens,
  kUnknownFunction,
  kMisusedFunction,
  kReserved,
  kSection,
  kAttr,
  kOperandCount,
  kDistinct,
  kFunction,
  kOther,
  kOverlap,
  kConflict,
  kCount,
};

struct Abort {
  Status status;
};

const char* long_type_name(item::Type t) {
  switch (t) {
    case item::Type::kS: return "STRING";
    case item::Type::kN: return "NUMBER";
    case item::Type::kB: return "BINARY";
    case item::Type::kBool: return "BOOLEAN";
    case item::Type::kNull: return "NULL";
    case item::Type::kM: return "MAP";
    case item::Type::kL: return "LIST";
    case item::Type::kSS: return "STRING_SET";
    case item::Type::kNS: return "NUMBER_SET";
    case item::Type::kBS: return "BINARY_SET";
  }
  return "UNKNOWN";
}

bool is_orderable(item::Type t) {
  return t == item::Type::kN || t == item::Type::kS || t == item::Type::kB;
}

bool paths_equal(const v1::Path& a, const v1::Path& b) {
  if (a.elements_size() != b.elements_size()) return false;
  for (int i = 0; i < a.elements_size(); ++i) {
    const auto& x = a.elements(i);
    const auto& y = b.elements(i);
    if (x.kind_case() != y.kind_case()) return false;
    if (x.has_name() ? x.name() != y.name() : x.index() != y.index()) return false;
  }
  return true;
}

// An operand of a condition while parsing, before it becomes a v1::Operand.
struct POperand {
  enum Kind { kPath, kValue, kSize, kFunction } kind = kPath;
  v1::Path path;                                  // kPath; kSize of a path
  const item::AttributeValue* value = nullptr;    // kValue (nullptr: undefined placeholder)
  std::optional<item::AttributeValue> computed;   // kSize of a literal
  std::string function;                           // kFunction (misused) name

  std::optional<item::Type> static_type() const {
    if (kind == kValue && value != nullptr) return value->type;
    if (kind == kSize) return item::Type::kN;
    return std::nullopt;
  }
  bool is_path() const { return kind == kPath; }
};

// An operand of an update SET value with the type known at parse time, if any.
struct UOperand {
  v1::UpdateOperand proto;
  std::optional<item::Type> type;
};

class Parser {
 public:
  Parser(std::string_view text, Placeholders& placeholders, std::string_view which,
         bool update_keywords)
      : text_(text),
        tokens_(internal::tokenize(text)),
        match_(internal::match_parens(tokens_)),
        ph_(placeholders),
        which_(which),
        update_keywords_(update_keywords) {}

  // ---- Entry points (each throws Abort on a syntax error) ----------------------------------

  v1::Condition condition() {
    v1::Condition c = parse_or();
    if (peek().kind != Tok::kEnd) fail();
    return c;
  }

  v1::Update update(const std::vector<std::string>& key_names, Status* key_error) {
    v1::Update out;
    std::array<bool, 4> seen{};
    static constexpr std::array<std::string_view, 4> kSections = {"SET", "REMOVE", "ADD",
                                                                  "DELETE"};
    std::vector<v1::Path> targets;
    if (peek().kind == Tok::kEnd) fail();
    while (peek().kind != Tok::kEnd) {
      size_t s = 0;
      while (s < kSections.size() && !is_keyword(peek(), kSections[s])) ++s;
      if (s == kSections.size()) fail();
      ++pos_;
      if (seen[s]) {
        note(Cat::kSection, "The \"" + std::string(kSections[s]) +
                                "\" section can only be used once in an update expression;");
      }
      seen[s] = true;
      while (true) {
        v1::Path path = parse_path();
        targets.push_back(path);
        if (s == 0) {
          expect(Tok::kEq);
          auto* action = out.add_set_actions();
          *action->mutable_path() = std::move(path);
          *action->mutable_value() = parse_set_value();
        } else if (s == 1) {
          *out.add_remove_paths() = std::move(path);
        } else {
          if (peek().kind != Tok::kValue) fail();
          const item::AttributeValue* v = resolve_value(peek().text);
          ++pos_;
          std::string encoded;
          if (v != nullptr) {
            bool ok = s == 2 ? (v->type == item::Type::kN || v->type == item::Type::kSS ||
                                v->type == item::Type::kNS || v->type == item::Type::kBS)
                             : (v->type == item::Type::kSS || v->type == item::Type::kNS ||
                                v->type == item::Type::kBS);
            if (!ok) {
              note(Cat::kFunction,
                   "Incorrect operand type for operator or function; operator: " +
                       std::string(kSections[s]) + ", operand type: " + long_type_name(v->type) +
                       ", typeSet: ALLOWED_FOR_" + std::string(kSections[s]) + "_OPERAND");
            }
            encoded = item::encode_value(*v);
          }
          if (s == 2) {
            auto* action = out.add_add_actions();
            *action->mutable_path() = std::move(path);
            action->set_value(std::move(encoded));
          } else {
            auto* action = out.add_delete_actions();
            *action->mutable_path() = std::move(path);
            action->set_value(std::move(encoded));
          }
        }
        if (peek().kind != Tok::kComma) break;
        ++pos_;
      }
    }
    check_paths(targets);
    for (const auto& p : targets) {
      const std::string& head = p.elements(0).name();
      for (const auto& key : key_names) {
        if (head == key) {
          *key_error = invalid_argument("One or more parameter values were invalid: "
                                        "Cannot update attribute " + key +
                                        ". This attribute is part of the key");
          return out;
        }
      }
    }
    return out;
  }

  v1::Projection projection() {
    v1::Projection out;
    std::vector<v1::Path> paths;
    while (true) {
      paths.push_back(parse_path());
      if (peek().kind != Tok::kComma) break;
      ++pos_;
    }
    if (peek().kind != Tok::kEnd) fail();
    check_paths(paths);
    for (auto& p : paths) *out.add_paths() = std::move(p);
    return out;
  }

  // The deferred errors, in DynamoDB's priority order.
  Status finish() const {
    if (operators_ > kMaxOperators) {
      return error("The expression contains too many operators; operator count: " +
                   std::to_string(operators_));
    }
    for (const auto& e : errors_) {
      if (e) return error(*e);
    }
    return Status::ok();
  }

  // True if size() appeared anywhere as an operand (key conditions allow no functions there).
  bool saw_size() const { return saw_size_; }

  Status error(const std::string& message) const {
    return invalid_argument("Invalid " + std::string(which_) + ": " + message);
  }

 private:
  // ---- Tokens ------------------------------------------------------------------------------

  const Token& peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }

  static bool is_keyword(const Token& t, std::string_view keyword) {
    return t.kind == Tok::kIdent && iequals(t.text, keyword);
  }

  bool is_hard_keyword(const Token& t) const {
    if (t.kind != Tok::kIdent) return false;
    for (std::string_view k : {"AND", "OR", "NOT", "BETWEEN", "IN"}) {
      if (iequals(t.text, k)) return true;
    }
    if (update_keywords_) {
      for (std::string_view k : {"SET", "REMOVE", "ADD", "DELETE"}) {
        if (iequals(t.text, k)) return true;
      }
    }
    return false;
  }

  static bool is_comparator(Tok k) {
    return k == Tok::kEq || k == Tok::kNe || k == Tok::kLt || k == Tok::kLe || k == Tok::kGt ||
           k == Tok::kGe;
  }

  // True if the token after the group that opens at `open` continues a comparison, i.e. the
  // group is an operand, not a condition.
  bool group_is_operand(size_t open) const {
    int close = match_[open];
    if (close < 0) return false;
    const Token& after = tokens_[static_cast<size_t>(close) + 1];
    return is_comparator(after.kind) || is_keyword(after, "BETWEEN") || is_keyword(after, "IN");
  }

  [[noreturn]] void fail() const {
    const Token& t = peek();
    std::string token = t.kind == Tok::kEnd ? "<EOF>" : std::string(t.text);
    size_t begin = pos_ > 0 ? tokens_[pos_ - 1].begin : t.begin;
    size_t end;
    if (t.kind == Tok::kEnd) {
      end = pos_ > 0 ? tokens_[pos_ - 1].end : t.end;
    } else {
      end = peek(1).kind == Tok::kEnd ? t.end : peek(1).end;
    }
    std::string near(text_.substr(begin, end - begin));
    throw Abort{error("Syntax error; token: \"" + token + "\", near: \"" + near + "\"")};
  }

  void expect(Tok kind) {
    if (peek().kind != kind) fail();
    ++pos_;
  }

  void note(Cat cat, std::string message) {
    auto& slot = errors_[static_cast<size_t>(cat)];
    if (!slot) slot = std::move(message);
  }

  void enter() {
    if (++depth_ > kMaxNesting) {
      throw Abort{error("The expression has too many nesting levels; maximum: " +
                        std::to_string(kMaxNesting))};
    }
  }
  void leave() { --depth_; }

  // Notes "redundant parentheses" if the group opening at pos_ directly wraps another group.
  void check_redundant_parens() {
    int close = match_[pos_];
    if (close > 0 && peek(1).kind == Tok::kLParen && match_[pos_ + 1] == close - 1) {
      note(Cat::kParens, "The expression has redundant parentheses;");
    }
  }

  // ---- Placeholders and paths --------------------------------------------------------------

  const item::AttributeValue* resolve_value(std::string_view token) {
    auto it = ph_.values.find(std::string(token));
    if (it == ph_.values.end()) {
      note(Cat::kAttr, "An expression attribute value used in expression is not defined; "
                       "attribute value: " + std::string(token));
      return nullptr;
    }
    ph_.used_values.insert(it->first);
    return &it->second;
  }

  // A path element from an identifier or #name at pos_ (consumed).
  void add_name(v1::Path* path) {
    const Token& t = peek();
    if (t.kind == Tok::kIdent && !is_hard_keyword(t)) {
      if (is_reserved_word(t.text)) {
        note(Cat::kReserved,
             "Attribute name is a reserved keyword; reserved keyword: " + std::string(t.text));
      }
      path->add_elements()->set_name(std::string(t.text));
    } else if (t.kind == Tok::kName) {
      auto it = ph_.names.find(std::string(t.text));
      if (it == ph_.names.end()) {
        note(Cat::kAttr, "An expression attribute name used in the document path is not "
                         "defined; attribute name: " + std::string(t.text));
        path->add_elements()->set_name(std::string(t.text));
      } else {
        ph_.used_names.insert(it->first);
        path->add_elements()->set_name(it->second);
      }
    } else {
      fail();
    }
    ++pos_;
  }

  v1::Path parse_path() {
    v1::Path path;
    add_name(&path);
    while (true) {
      if (peek().kind == Tok::kDot) {
        ++pos_;
        add_name(&path);
      } else if (peek().kind == Tok::kLBracket) {
        ++pos_;
        if (peek().kind != Tok::kNumber) fail();
        std::string_view digits = peek().text;
        uint64_t index = 0;
        bool too_big = false;
        for (char c : digits) {
          index = index * 10 + static_cast<uint64_t>(c - '0');
          if (index > UINT32_MAX) {
            too_big = true;
            index = 0;
          }
        }
        if (too_big) {
          note(Cat::kOther, "List index is not within the allowable range; index: " +
                                std::string(digits));
        }
        path.add_elements()->set_index(static_cast<uint32_t>(index));
        ++pos_;
        expect(Tok::kRBracket);
      } else {
        break;
      }
    }
    if (path.elements_size() > kMaxPathDepth) {
      note(Cat::kOther, "The document path has too many nesting levels; nesting levels: " +
                            std::to_string(path.elements_size()));
    }
    return path;
  }

  // Overlapping / conflicting document paths (update targets, projections).
  void check_paths(const std::vector<v1::Path>& paths) {
    for (size_t i = 0; i < paths.size(); ++i) {
      for (size_t j = i + 1; j < paths.size(); ++j) {
        const v1::Path& a = paths[i];
        const v1::Path& b = paths[j];
        int n = std::min(a.elements_size(), b.elements_size());
        bool related = true;
        for (int k = 0; k < n && related; ++k) {
          const auto& x = a.elements(k);
          const auto& y = b.elements(k);
          if (x.kind_case() != y.kind_case()) {
            note(Cat::kConflict, "Two document paths conflict with each other; must remove or "
                                 "rewrite one of these paths; path one: " + path_to_string(a) +
                                     ", path two: " + path_to_string(b));
            related = false;
          } else if (x.has_name() ? x.name() != y.name() : x.index() != y.index()) {
            related = false;
          }
        }
        if (related) {
          note(Cat::kOverlap, "Two document paths overlap with each other; must remove or "
                              "rewrite one of these paths; path one: " + path_to_string(a) +
                                  ", path two: " + path_to_string(b));
        }
      }
    }
  }

  // ---- Conditions --------------------------------------------------------------------------

  v1::Condition parse_or() {
    v1::Condition first = parse_and();
    if (!is_keyword(peek(), "OR")) return first;
    v1::Condition out;
    auto* junction = out.mutable_disjunction();
    auto add = [&](v1::Condition&& c) {
      if (c.has_disjunction()) {
        for (auto& t : *c.mutable_disjunction()->mutable_terms()) {
          *junction->add_terms() = std::move(t);
        }
      } else {
        *junction->add_terms() = std::move(c);
      }
    };
    add(std::move(first));
    while (is_keyword(peek(), "OR")) {
      ++pos_;
      ++operators_;
      add(parse_and());
    }
    return out;
  }

  v1::Condition parse_and() {
    v1::Condition first = parse_not();
    if (!is_keyword(peek(), "AND")) return first;
    v1::Condition out;
    auto* junction = out.mutable_conjunction();
    auto add = [&](v1::Condition&& c) {
      if (c.has_conjunction()) {
        for (auto& t : *c.mutable_conjunction()->mutable_terms()) {
          *junction->add_terms() = std::move(t);
        }
      } else {
        *junction->add_terms() = std::move(c);
      }
    };
    add(std::move(first));
    while (is_keyword(peek(), "AND")) {
      ++pos_;
      ++operators_;
      add(parse_not());
    }
    return out;
  }

  v1::Condition parse_not() {
    if (!is_keyword(peek(), "NOT")) return parse_primary();
    ++pos_;
    ++operators_;
    enter();
    v1::Condition inner = parse_not();
    leave();
    v1::Condition out;
    *out.mutable_negation() = std::move(inner);
    return out;
  }

  v1::Condition parse_primary() {
    if (peek().kind == Tok::kLParen && !group_is_operand(pos_)) {
      check_redundant_parens();
      ++pos_;
      enter();
      v1::Condition inner = parse_or();
      leave();
      expect(Tok::kRParen);
      return inner;
    }
    // A function used as a condition: name(...) not followed by a comparator.
    if (peek().kind == Tok::kIdent && peek(1).kind == Tok::kLParen && !is_hard_keyword(peek()) &&
        !group_is_operand(pos_ + 1)) {
      return parse_function_condition();
    }
    return parse_comparison();
  }

  std::vector<POperand> parse_args() {
    expect(Tok::kLParen);
    enter();
    std::vector<POperand> args;
    args.push_back(parse_operand());
    while (peek().kind == Tok::kComma) {
      ++pos_;
      args.push_back(parse_operand());
    }
    leave();
    expect(Tok::kRParen);
    return args;
  }

  void check_count(std::string_view name, const std::vector<POperand>& args, size_t expected) {
    if (args.size() != expected) {
      note(Cat::kOperandCount, "Incorrect number of operands for operator or function; "
                               "operator or function: " + std::string(name) +
                                   ", number of operands: " + std::to_string(args.size()));
    }
  }

  void check_distinct(std::string_view op, const POperand& a, const POperand& b) {
    if (a.is_path() && b.is_path() && paths_equal(a.path, b.path)) {
      note(Cat::kDistinct, "The first operand must be distinct from the remaining operands for "
                           "this operator or function; operator: " + std::string(op) +
                               ", first operand: " + path_to_string(a.path));
    }
  }

  void type_error(std::string_view op, const std::string& type) {
    note(Cat::kFunction, "Incorrect operand type for operator or function; operator or "
                         "function: " + std::string(op) + ", operand type: " + type);
  }

  void requires_path(std::string_view op) {
    note(Cat::kFunction, "Operator or function requires a document path; operator or "
                         "function: " + std::string(op));
  }

  // Reports a function name that is not a condition function. Returns true if it was one.
  bool check_condition_function_name(const std::string& name) {
    for (std::string_view f : {"attribute_exists", "attribute_not_exists", "attribute_type",
                               "begins_with", "contains", "size"}) {
      if (name == f) return true;
    }
    if (name == "if_not_exists" || name == "list_append") {
      note(Cat::kUnknownFunction,
           "The function is not allowed in a condition expression; function: " + name);
    } else {
      note(Cat::kUnknownFunction, "Invalid function name; function: " + name);
    }
    return false;
  }

  v1::Condition parse_function_condition() {
    std::string name(peek().text);
    ++pos_;
    ++operators_;
    std::vector<POperand> args = parse_args();
    v1::Condition out;
    if (!check_condition_function_name(name)) return out;
    if (name == "size") {
      note(Cat::kMisusedFunction,
           "The function is not allowed to be used this way in an expression; function: size");
      return out;
    }
    auto* fn = out.mutable_function();
    if (name == "attribute_exists" || name == "attribute_not_exists") {
      fn->set_name(name == "attribute_exists" ? v1::FUNCTION_NAME_ATTRIBUTE_EXISTS
                                              : v1::FUNCTION_NAME_ATTRIBUTE_NOT_EXISTS);
      check_count(name, args, 1);
      if (!args[0].is_path()) requires_path(name);
    } else {
      check_count(name, args, 2);
      if (args.size() >= 2) check_distinct(name, args[0], args[1]);
      if (name == "attribute_type") {
        fn->set_name(v1::FUNCTION_NAME_ATTRIBUTE_TYPE);
        if (!args[0].is_path()) requires_path(name);
        if (args.size() >= 2) check_type_name(args[1]);
      } else if (name == "begins_with") {
        fn->set_name(v1::FUNCTION_NAME_BEGINS_WITH);
        for (const auto& a : args) {
          auto t = a.static_type();
          if (t && *t != item::Type::kS && *t != item::Type::kB) {
            type_error(name, item::type_name(*t));
          }
        }
      } else {
        fn->set_name(v1::FUNCTION_NAME_CONTAINS);
      }
    }
    for (const auto& a : args) *fn->add_args() = to_proto(a);
    return out;
  }

  void check_type_name(const POperand& arg) {
    auto t = arg.static_type();
    if (!t || *t != item::Type::kS) {
      type_error("attribute_type", t ? item::type_name(*t) : "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
      return;
    }
    if (arg.kind != POperand::kValue) return;
    for (std::string_view valid : {"S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"}) {
      if (arg.value->bytes == valid) return;
    }
    note(Cat::kFunction, "Invalid attribute type name found; type: " + arg.value->bytes +
                             ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
  }

  POperand parse_operand() {
    const Token& t = peek();
    if (t.kind == Tok::kLParen) {
      check_redundant_parens();
      ++pos_;
      enter();
      POperand inner = parse_operand();
      leave();
      expect(Tok::kRParen);
      return inner;
    }
    POperand out;
    if (t.kind == Tok::kValue) {
      out.kind = POperand::kValue;
      out.value = resolve_value(t.text);
      ++pos_;
      return out;
    }
    if (t.kind == Tok::kIdent && peek(1).kind == Tok::kLParen && !is_hard_keyword(t)) {
      std::string name(t.text);
      ++pos_;
      ++operators_;
      std::vector<POperand> args = parse_args();
      if (!check_condition_function_name(name)) {
        out.kind = POperand::kFunction;
        out.function = name;
        return out;
      }
      if (name != "size") {
        note(Cat::kMisusedFunction,
             "The function is not allowed to be used this way in an expression; function: " +
                 name);
        out.kind = POperand::kFunction;
        out.function = name;
        return out;
      }
      saw_size_ = true;
      check_count(name, args, 1);
      const POperand& arg = args[0];
      auto type = arg.static_type();
      if (type && (*type == item::Type::kN || *type == item::Type::kBool ||
                   *type == item::Type::kNull)) {
        type_error("size", item::type_name(*type));
      }
      out.kind = POperand::kSize;
      if (arg.kind == POperand::kPath) {
        out.path = arg.path;
      } else if (arg.kind == POperand::kValue && arg.value != nullptr) {
        if (auto n = internal::size_of(*arg.value)) out.computed = internal::number(*n);
      } else if (arg.kind == POperand::kSize && arg.computed) {
        out.computed = std::nullopt;   // size(size(x)): already reported as a type error
      }
      return out;
    }
    out.kind = POperand::kPath;
    out.path = parse_path();
    return out;
  }

  v1::Operand to_proto(const POperand& op) const {
    v1::Operand out;
    switch (op.kind) {
      case POperand::kPath: *out.mutable_path() = op.path; break;
      case POperand::kValue:
        if (op.value != nullptr) out.set_value(item::encode_value(*op.value));
        break;
      case POperand::kSize:
        if (op.computed) {
          out.set_value(item::encode_value(*op.computed));
        } else {
          *out.mutable_size_of() = op.path;
        }
        break;
      case POperand::kFunction: break;
    }
    return out;
  }

  v1::Condition parse_comparison() {
    POperand lhs = parse_operand();
    v1::Condition out;
    const Token& t = peek();
    if (is_comparator(t.kind)) {
      std::string op(t.text);
      v1::CompareOp cmp = v1::COMPARE_OP_EQ;
      switch (t.kind) {
        case Tok::kNe: cmp = v1::COMPARE_OP_NE; break;
        case Tok::kLt: cmp = v1::COMPARE_OP_LT; break;
        case Tok::kLe: cmp = v1::COMPARE_OP_LE; break;
        case Tok::kGt: cmp = v1::COMPARE_OP_GT; break;
        case Tok::kGe: cmp = v1::COMPARE_OP_GE; break;
        default: break;
      }
      ++pos_;
      ++operators_;
      POperand rhs = parse_operand();
      if (cmp != v1::COMPARE_OP_EQ && cmp != v1::COMPARE_OP_NE) {
        for (const POperand* o : {&lhs, &rhs}) {
          auto type = o->static_type();
          if (type && !is_orderable(*type)) type_error(op, item::type_name(*type));
        }
      }
      check_distinct(op, lhs, rhs);
      auto* c = out.mutable_comparison();
      c->set_op(cmp);
      *c->mutable_lhs() = to_proto(lhs);
      *c->mutable_rhs() = to_proto(rhs);
      return out;
    }
    if (is_keyword(t, "BETWEEN")) {
      ++pos_;
      ++operators_;
      POperand lower = parse_operand();
      if (!is_keyword(peek(), "AND")) fail();
      ++pos_;
      POperand upper = parse_operand();
      for (const POperand* o : {&lhs, &lower, &upper}) {
        auto type = o->static_type();
        if (type && !is_orderable(*type)) type_error("BETWEEN", item::type_name(*type));
      }
      if (lower.kind == POperand::kValue && upper.kind == POperand::kValue && lower.value &&
          upper.value) {
        const auto& lo = *lower.value;
        const auto& hi = *upper.value;
        if (lo.type != hi.type) {
          note(Cat::kFunction, "The BETWEEN operator requires same data type for lower and "
                               "upper bounds; lower bound operand: " + internal::describe(lo) +
                                   ", upper bound operand: " + internal::describe(hi));
        } else if (auto c = internal::order(lo, hi); c && *c > 0) {
          note(Cat::kFunction, "The BETWEEN operator requires upper bound to be greater than or "
                               "equal to lower bound; lower bound operand: " +
                                   internal::describe(lo) +
                                   ", upper bound operand: " + internal::describe(hi));
        }
      }
      auto* b = out.mutable_between();
      *b->mutable_operand() = to_proto(lhs);
      *b->mutable_lower() = to_proto(lower);
      *b->mutable_upper() = to_proto(upper);
      return out;
    }
    if (is_keyword(t, "IN")) {
      ++pos_;
      ++operators_;
      std::vector<POperand> candidates = parse_args();
      if (candidates.size() > static_cast<size_t>(kMaxInOperands)) {
        note(Cat::kOther, "The IN operator is provided with too many operands; number of "
                          "operands: " + std::to_string(candidates.size()));
      }
      auto* in = out.mutable_in_list();
      *in->mutable_operand() = to_proto(lhs);
      for (const auto& c : candidates) *in->add_candidates() = to_proto(c);
      return out;
    }
    fail();
  }

  // ---- Update SET values -------------------------------------------------------------------

  v1::SetValue parse_set_value() {
    UOperand lhs = parse_update_operand();
    v1::SetValue out;
    if (peek().kind != Tok::kPlus && peek().kind != Tok::kMinus) {
      *out.mutable_operand() = std::move(lhs.proto);
      return out;
    }
    bool plus = peek().kind == Tok::kPlus;
    ++pos_;
    ++operators_;
    UOperand rhs = parse_update_operand();
    for (const UOperand* o : {&lhs, &rhs}) {
      if (o->type && *o->type != item::Type::kN) {
        type_error(plus ? "+" : "-", item::type_name(*o->type));
      }
    }
    auto* a = plus ? out.mutable_plus() : out.mutable_minus();
    *a->mutable_lhs() = std::move(lhs.proto);
    *a->mutable_rhs() = std::move(rhs.proto);
    return out;
  }

  UOperand parse_update_operand() {
    const Token& t = peek();
    UOperand out;
    if (t.kind == Tok::kValue) {
      const item::AttributeValue* v = resolve_value(t.text);
      ++pos_;
      if (v != nullptr) {
        out.proto.set_value(item::encode_value(*v));
        out.type = v->type;
      }
      return out;
    }
    if (t.kind == Tok::kIdent && peek(1).kind == Tok::kLParen && !is_hard_keyword(t)) {
      std::string name(t.text);
      ++pos_;
      ++operators_;
      expect(Tok::kLParen);
      enter();
      std::vector<UOperand> args;
      args.push_back(parse_update_operand());
      while (peek().kind == Tok::kComma) {
        ++pos_;
        args.push_back(parse_update_operand());
      }
      leave();
      expect(Tok::kRParen);
      if (name == "if_not_exists" || name == "list_append") {
        if (args.size() != 2) {
          note(Cat::kOperandCount, "Incorrect number of operands for operator or function; "
                                   "operator or function: " + name +
                                       ", number of operands: " + std::to_string(args.size()));
          return out;
        }
        if (name == "if_not_exists") {
          if (!args[0].proto.has_path()) requires_path(name);
          auto* f = out.proto.mutable_if_not_exists();
          *f->mutable_path() = args[0].proto.path();
          *f->mutable_fallback() = std::move(args[1].proto);
          out.type = args[1].type;
        } else {
          for (const auto& a : args) {
            if (a.type && *a.type != item::Type::kL) type_error(name, item::type_name(*a.type));
          }
          auto* f = out.proto.mutable_list_append();
          *f->mutable_first() = std::move(args[0].proto);
          *f->mutable_second() = std::move(args[1].proto);
          out.type = item::Type::kL;
        }
        return out;
      }
      bool condition_function = false;
      for (std::string_view f : {"attribute_exists", "attribute_not_exists", "attribute_type",
                                 "begins_with", "contains", "size"}) {
        if (name == f) condition_function = true;
      }
      if (condition_function) {
        note(Cat::kMisusedFunction,
             "The function is not allowed in an update expression; function: " + name);
      } else {
        note(Cat::kUnknownFunction, "Invalid function name; function: " + name);
      }
      return out;
    }
    *out.proto.mutable_path() = parse_path();
    return out;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::vector<int> match_;
  Placeholders& ph_;
  std::string_view which_;
  bool update_keywords_;
  size_t pos_ = 0;
  int depth_ = 0;
  int operators_ = 0;
  bool saw_size_ = false;
  std::array<std::optional<std::string>, static_cast<size_t>(Cat::kCount)> errors_;
};

// Empty / oversized expressions, checked before tokenizing.
Status check_text(std::string_view text, std::string_view which) {
  if (text.empty()) {
    return invalid_argument("Invalid " + std::string(which) +
                            ": The expression can not be empty;");
  }
  if (text.size() > kMaxExpressionBytes) {
    return invalid_argument("Invalid " + std::string(which) +
                            ": Expression size has exceeded the maximum allowed size; "
                            "expression size: " + std::to_string(text.size()));
  }
  return Status::ok();
}

// Key conditions: the allowed shapes on top of the general condition grammar. Each term is
// normalized so the key attribute comes first (":a < sk" becomes "sk > :a").
struct KeyTerm {
  enum Kind { kCompare, kBetween, kBeginsWith } kind = kCompare;
  std::string name;
  v1::CompareOp op = v1::COMPARE_OP_EQ;   // kCompare
  std::string value;                      // encoded; the lower bound of kBetween
  std::string value2;                     // kBetween: the upper bound
};

Status key_operator_error(std::string_view op) {
  return invalid_argument("Invalid operator used in KeyConditionExpression: " + std::string(op));
}

Status invalid_key_condition(std::string_view detail) {
  return invalid_argument("Invalid condition in KeyConditionExpression: " + std::string(detail));
}

Status nested_operations() {
  return invalid_argument("KeyConditionExpressions cannot contain nested operations");
}

// The operator seen from the other side: "a < b" is "b > a".
v1::CompareOp flip(v1::CompareOp op) {
  switch (op) {
    case v1::COMPARE_OP_LT: return v1::COMPARE_OP_GT;
    case v1::COMPARE_OP_LE: return v1::COMPARE_OP_GE;
    case v1::COMPARE_OP_GT: return v1::COMPARE_OP_LT;
    case v1::COMPARE_OP_GE: return v1::COMPARE_OP_LE;
    default: return op;
  }
}

// Checks the operands of one key condition term: no size(), exactly one attribute name, and
// (for BETWEEN and begins_with) the attribute first. Sets *key to the index of the attribute.
Status check_key_operands(std::initializer_list<const v1::Operand*> operands,
                          std::string_view first_operand_op, size_t* key) {
  size_t paths = 0;
  size_t i = 0;
  for (const v1::Operand* o : operands) {
    if (o->has_size_of()) return nested_operations();
    if (o->has_path()) {
      ++paths;
      *key = i;
    } else if (!o->has_value()) {
      return invalid_argument("Query key condition not supported");
    }
    ++i;
  }
  if (paths == 0) return invalid_key_condition("No key attribute specified");
  if (paths > 1) return invalid_key_condition("Multiple attribute names used in one condition");
  if (!first_operand_op.empty() && *key != 0) {
    return invalid_key_condition(std::string(first_operand_op) +
                                 " operator must have the key attribute as its first operand");
  }
  return Status::ok();
}

Status key_name(const v1::Operand& operand, std::string* name) {
  if (operand.path().elements_size() != 1 || !operand.path().elements(0).has_name()) {
    return invalid_argument("KeyConditionExpressions cannot have conditions on nested attributes");
  }
  *name = operand.path().elements(0).name();
  return Status::ok();
}

Status collect_key_terms(const v1::Condition& c, std::vector<KeyTerm>* terms) {
  switch (c.kind_case()) {
    case v1::Condition::kConjunction:
      for (const auto& t : c.conjunction().terms()) {
        SHOAL_RETURN_IF_ERROR(collect_key_terms(t, terms));
      }
      return Status::ok();
    case v1::Condition::kDisjunction: return key_operator_error("OR");
    case v1::Condition::kNegation: return key_operator_error("NOT");
    case v1::Condition::kInList: return key_operator_error("IN");
    case v1::Condition::kComparison: {
      const auto& cmp = c.comparison();
      if (cmp.op() == v1::COMPARE_OP_NE) return key_operator_error("<>");
      size_t key = 0;
      SHOAL_RETURN_IF_ERROR(check_key_operands({&cmp.lhs(), &cmp.rhs()}, "", &key));
      KeyTerm term;
      term.kind = KeyTerm::kCompare;
      const v1::Operand& attribute = key == 0 ? cmp.lhs() : cmp.rhs();
      SHOAL_RETURN_IF_ERROR(key_name(attribute, &term.name));
      term.op = key == 0 ? cmp.op() : flip(cmp.op());
      term.value = key == 0 ? cmp.rhs().value() : cmp.lhs().value();
      terms->push_back(std::move(term));
      return Status::ok();
    }
    case v1::Condition::kBetween: {
      const auto& b = c.between();
      size_t key = 0;
      SHOAL_RETURN_IF_ERROR(
          check_key_operands({&b.operand(), &b.lower(), &b.upper()}, "BETWEEN", &key));
      KeyTerm term;
      term.kind = KeyTerm::kBetween;
      SHOAL_RETURN_IF_ERROR(key_name(b.operand(), &term.name));
      term.value = b.lower().value();
      term.value2 = b.upper().value();
      terms->push_back(std::move(term));
      return Status::ok();
    }
    case v1::Condition::kFunction: {
      const auto& f = c.function();
      switch (f.name()) {
        case v1::FUNCTION_NAME_BEGINS_WITH: break;
        case v1::FUNCTION_NAME_ATTRIBUTE_EXISTS: return key_operator_error("attribute_exists");
        case v1::FUNCTION_NAME_ATTRIBUTE_NOT_EXISTS:
          return key_operator_error("attribute_not_exists");
        case v1::FUNCTION_NAME_ATTRIBUTE_TYPE: return key_operator_error("attribute_type");
        case v1::FUNCTION_NAME_CONTAINS: return key_operator_error("contains");
        default: return invalid_argument("Query key condition not supported");
      }
      if (f.args_size() != 2) return invalid_argument("Query key condition not supported");
      size_t key = 0;
      SHOAL_RETURN_IF_ERROR(check_key_operands({&f.args(0), &f.args(1)}, "begins_with", &key));
      KeyTerm term;
      term.kind = KeyTerm::kBeginsWith;
      SHOAL_RETURN_IF_ERROR(key_name(f.args(0), &term.name));
      term.value = f.args(1).value();
      terms->push_back(std::move(term));
      return Status::ok();
    }
    default: return invalid_argument("Query key condition not supported");
  }
}

}  // namespace

void Placeholders::add_names(const rapidjson::Value& object) {
  if (!object.IsObject()) return;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (it->value.IsString()) {
      names[std::string(it->name.GetString(), it->name.GetStringLength())] =
          std::string(it->value.GetString(), it->value.GetStringLength());
    }
  }
}

Status check_all_used(const Placeholders& placeholders) {
  auto unused = [](const auto& map, const std::set<std::string>& used) {
    std::string keys;
    for (const auto& [key, value] : map) {
      if (used.count(key) != 0) continue;
      if (!keys.empty()) keys += ", ";
      keys += key;
    }
    return keys;
  };
  std::string names = unused(placeholders.names, placeholders.used_names);
  if (!names.empty()) {
    return invalid_argument(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + names +
        "}");
  }
  std::string values = unused(placeholders.values, placeholders.used_values);
  if (!values.empty()) {
    return invalid_argument(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + values +
        "}");
  }
  return Status::ok();
}

std::string path_to_string(const v1::Path& path) {
  std::string out = "[";
  for (int i = 0; i < path.elements_size(); ++i) {
    if (i > 0) out += ", ";
    const auto& e = path.elements(i);
    if (e.has_name()) {
      out += e.name();
    } else {
      out += "[" + std::to_string(e.index()) + "]";
    }
  }
  out += "]";
  return out;
}

Result<v1::Condition> parse_condition(std::string_view text, Placeholders& placeholders,
                                      std::string_view which) {
  SHOAL_RETURN_IF_ERROR(check_text(text, which));
  Parser parser(text, placeholders, which, false);
  try {
    v1::Condition c = parser.condition();
    SHOAL_RETURN_IF_ERROR(parser.finish());
    return c;
  } catch (const Abort& abort) {
    return abort.status;
  }
}

Result<v1::Update> parse_update(std::string_view text, Placeholders& placeholders,
                                const std::vector<std::string>& key_names) {
  SHOAL_RETURN_IF_ERROR(check_text(text, "UpdateExpression"));
  Parser parser(text, placeholders, "UpdateExpression", true);
  try {
    Status key_error;
    v1::Update u = parser.update(key_names, &key_error);
    SHOAL_RETURN_IF_ERROR(parser.finish());
    SHOAL_RETURN_IF_ERROR(key_error);
    return u;
  } catch (const Abort& abort) {
    return abort.status;
  }
}

Result<v1::Projection> parse_projection(std::string_view text, Placeholders& placeholders) {
  SHOAL_RETURN_IF_ERROR(check_text(text, "ProjectionExpression"));
  Parser parser(text, placeholders, "ProjectionExpression", false);
  try {
    v1::Projection p = parser.projection();
    SHOAL_RETURN_IF_ERROR(parser.finish());
    return p;
  } catch (const Abort& abort) {
    return abort.status;
  }
}

Result<v1::KeyCondition> parse_key_condition(std::string_view text, Placeholders& placeholders,
                                             const KeySchema& schema) {
  static constexpr std::string_view kWhich = "KeyConditionExpression";
  SHOAL_RETURN_IF_ERROR(check_text(text, kWhich));
  Parser parser(text, placeholders, kWhich, false);
  v1::Condition c;
  try {
    c = parser.condition();
    SHOAL_RETURN_IF_ERROR(parser.finish());
  } catch (const Abort& abort) {
    return abort.status;
  }
  std::vector<KeyTerm> terms;
  SHOAL_RETURN_IF_ERROR(collect_key_terms(c, &terms));
  // size() of a literal is folded into a value by the parser; it is still a nested operation.
  if (parser.saw_size()) return nested_operations();
  const KeyTerm* pk = nullptr;
  const KeyTerm* sk = nullptr;
  bool other = false;
  for (const auto& t : terms) {
    const KeyTerm** slot = nullptr;
    if (t.name == schema.pk_name) {
      slot = &pk;
    } else if (!schema.sk_name.empty() && t.name == schema.sk_name) {
      slot = &sk;
    } else {
      other = true;
      continue;
    }
    if (*slot != nullptr) {
      return invalid_argument("KeyConditionExpressions must only contain one condition per key");
    }
    *slot = &t;
  }
  if (terms.size() > 2) {
    return invalid_argument("KeyConditionExpressions must only contain one condition per key");
  }
  if (pk == nullptr) {
    return invalid_argument("Query condition missed key schema element: " + schema.pk_name);
  }
  if (other) {
    if (!schema.sk_name.empty() && sk == nullptr) {
      return invalid_argument("Query condition missed key schema element: " + schema.sk_name);
    }
    return invalid_argument("Query key condition not supported");
  }
  if (pk->kind != KeyTerm::kCompare || pk->op != v1::COMPARE_OP_EQ) {
    return invalid_argument("Query key condition not supported");
  }
  static const Status kTypeMismatch = invalid_argument(
      "One or more parameter values were invalid: Condition parameter type does not match "
      "schema type");
  auto check_type = [](const std::string& bytes, std::optional<item::Type> type) -> Status {
    if (!type) return Status::ok();
    item::AttributeValue v;
    if (!item::decode_value(bytes, &v) || v.type != *type) return kTypeMismatch;
    return Status::ok();
  };
  v1::KeyCondition out;
  out.set_pk_name(schema.pk_name);
  out.set_pk_value(pk->value);
  SHOAL_RETURN_IF_ERROR(check_type(out.pk_value(), schema.pk_type));
  if (sk != nullptr) {
    auto* s = out.mutable_sort();
    s->set_sk_name(schema.sk_name);
    s->set_value(sk->value);
    switch (sk->kind) {
      case KeyTerm::kCompare:
        switch (sk->op) {
          case v1::COMPARE_OP_EQ: s->set_op(v1::SORT_OP_EQ); break;
          case v1::COMPARE_OP_LT: s->set_op(v1::SORT_OP_LT); break;
          case v1::COMPARE_OP_LE: s->set_op(v1::SORT_OP_LE); break;
          case v1::COMPARE_OP_GT: s->set_op(v1::SORT_OP_GT); break;
          case v1::COMPARE_OP_GE: s->set_op(v1::SORT_OP_GE); break;
          default: return invalid_argument("Query key condition not supported");
        }
        break;
      case KeyTerm::kBetween:
        s->set_op(v1::SORT_OP_BETWEEN);
        s->set_value2(sk->value2);
        SHOAL_RETURN_IF_ERROR(check_type(s->value2(), schema.sk_type));
        break;
      case KeyTerm::kBeginsWith:
        s->set_op(v1::SORT_OP_BEGINS_WITH);
        if (schema.sk_type == item::Type::kN) {
          return invalid_argument("Invalid KeyConditionExpression: Incorrect operand type for "
                                  "operator or function; operator or function: begins_with, "
                                  "operand type: N");
        }
        break;
    }
    SHOAL_RETURN_IF_ERROR(check_type(s->value(), schema.sk_type));
  }
  return out;
}

}  // namespace shoal::expr
