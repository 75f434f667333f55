#include "lexer.h"

#include <cctype>

namespace shoal::expr::internal {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_part(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Length of the UTF-8 sequence starting at text[i] (1 for invalid bytes), bounded by the text.
size_t utf8_length(std::string_view text, size_t i) {
  auto lead = static_cast<unsigned char>(text[i]);
  size_t n = 1;
  if (lead >= 0xF0 && lead <= 0xF7) {
    n = 4;
  } else if (lead >= 0xE0) {
    n = 3;
  } else if (lead >= 0xC0) {
    n = 2;
  }
  size_t len = 1;
  while (len < n && i + len < text.size() &&
         (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) {
    ++len;
  }
  return len;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  auto emit = [&](Tok kind, size_t begin, size_t end) {
    out.push_back(Token{kind, begin, end, text.substr(begin, end - begin)});
  };
  while (i < text.size()) {
    char c = text[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    size_t begin = i;
    if (is_alpha(c)) {
      while (i < text.size() && is_ident_part(text[i])) ++i;
      emit(Tok::kIdent, begin, i);
    } else if (is_digit(c)) {
      while (i < text.size() && is_digit(text[i])) ++i;
      emit(Tok::kNumber, begin, i);
    } else if ((c == '#' || c == ':') && i + 1 < text.size() && is_ident_part(text[i + 1])) {
      ++i;
      while (i < text.size() && is_ident_part(text[i])) ++i;
      emit(c == '#' ? Tok::kName : Tok::kValue, begin, i);
    } else {
      Tok kind = Tok::kOther;
      size_t len = 1;
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      switch (c) {
        case '(': kind = Tok::kLParen; break;
        case ')': kind = Tok::kRParen; break;
        case '[': kind = Tok::kLBracket; break;
        case ']': kind = Tok::kRBracket; break;
        case ',': kind = Tok::kComma; break;
        case '.': kind = Tok::kDot; break;
        case '=': kind = Tok::kEq; break;
        case '+': kind = Tok::kPlus; break;
        case '-': kind = Tok::kMinus; break;
        case '<':
          if (next == '>') {
            kind = Tok::kNe;
            len = 2;
          } else if (next == '=') {
            kind = Tok::kLe;
            len = 2;
          } else {
            kind = Tok::kLt;
          }
          break;
        case '>':
          if (next == '=') {
            kind = Tok::kGe;
            len = 2;
          } else {
            kind = Tok::kGt;
          }
          break;
        default: len = utf8_length(text, i); break;
      }
      i += len;
      emit(kind, begin, i);
    }
  }
  out.push_back(Token{Tok::kEnd, text.size(), text.size(), std::string_view()});
  return out;
}

std::vector<int> match_parens(const std::vector<Token>& tokens) {
  std::vector<int> match(tokens.size(), -1);
  std::vector<int> stack;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind == Tok::kLParen) {
      stack.push_back(static_cast<int>(i));
    } else if (tokens[i].kind == Tok::kRParen && !stack.empty()) {
      match[i] = stack.back();
      match[stack.back()] = static_cast<int>(i);
      stack.pop_back();
    }
  }
  return match;
}

}  // namespace shoal::expr::internal
