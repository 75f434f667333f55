#pragma once
// Value helpers shared by the parser (checks on literal operands) and the evaluator.

#include <cstdint>
#include <optional>
#include <string>

#include "shoal/expr/v1/expr.pb.h"
#include "shoal/item/item.h"

namespace shoal::expr::internal {

// size(): bytes of S and B (UTF-8 bytes for S), element count of sets, M and L; nullopt for
// N, BOOL and NULL.
std::optional<uint64_t> size_of(const item::AttributeValue& v);

// Ordering of two values for < <= > >= BETWEEN: only N, S, B of the same type; nullopt
// otherwise (the comparison is then false).
std::optional<int> order(const item::AttributeValue& a, const item::AttributeValue& b);

item::AttributeValue number(uint64_t n);

// "AttributeValue: {S:abc}" as DynamoDB prints scalar literals in messages.
std::string describe(const item::AttributeValue& v);

// The attribute at `path`, or nullptr (missing, or a step through the wrong type).
const item::AttributeValue* lookup(const item::Item& item, const v1::Path& path);

}  // namespace shoal::expr::internal
