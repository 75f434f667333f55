#pragma once
// Small builders shared by the expr tests.

#include <string>
#include <utility>
#include <vector>

#include "shoal/expr/eval.h"
#include "shoal/expr/parse.h"

namespace shoal::expr::testing {

using item::AttributeValue;

inline AttributeValue S(std::string s) { return AttributeValue::S(std::move(s)); }
inline AttributeValue B(std::string s) { return AttributeValue::B(std::move(s)); }
inline item::Decimal D(const std::string& text) {
  item::Decimal d;
  (void)item::Decimal::parse(text, &d);
  return d;
}
inline AttributeValue N(const std::string& text) { return AttributeValue::N(D(text)); }
inline AttributeValue SS(std::vector<std::string> v) { return AttributeValue::SS(std::move(v)); }
inline AttributeValue NS(std::vector<std::string> v) {
  std::vector<item::Decimal> d;
  for (const auto& s : v) d.push_back(D(s));
  return AttributeValue::NS(std::move(d));
}
inline AttributeValue L(item::AttributeList l) { return AttributeValue::L(std::move(l)); }
inline AttributeValue M(item::AttributeMap m) { return AttributeValue::M(std::move(m)); }

inline Placeholders make_placeholders(std::vector<std::pair<std::string, std::string>> names,
                                      std::vector<std::pair<std::string, AttributeValue>> values) {
  Placeholders p;
  for (auto& [k, v] : names) p.names[k] = v;
  for (auto& [k, v] : values) p.values[k] = v;
  return p;
}

template <class T>
std::string error_of(const Result<T>& r) {
  return r.ok() ? std::string("<ok>") : r.status().message();
}

}  // namespace shoal::expr::testing
