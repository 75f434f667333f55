#pragma once
// Tokenizer shared by every expression kind. Never fails: a byte that starts no token becomes a
// one-character kOther token (a whole UTF-8 sequence), which the parser reports as
// "Syntax error; token: ..." when it reaches it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::expr::internal {

enum class Tok {
  kEnd,
  kIdent,    // [A-Za-z][A-Za-z0-9_]*  (keywords are identifiers, matched case-insensitively)
  kName,     // #[A-Za-z0-9_]+
  kValue,    // :[A-Za-z0-9_]+
  kNumber,   // [0-9]+
  kLParen, kRParen, kLBracket, kRBracket, kComma, kDot,
  kEq, kNe, kLt, kLe, kGt, kGe, kPlus, kMinus,
  kOther,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t begin = 0;
  size_t end = 0;
  std::string_view text;
};

// Always ends with one kEnd token.
std::vector<Token> tokenize(std::string_view text);

// For each kLParen, the index of its matching kRParen (and vice versa); -1 when unmatched.
std::vector<int> match_parens(const std::vector<Token>& tokens);

bool iequals(std::string_view a, std::string_view b);

}  // namespace shoal::expr::internal
