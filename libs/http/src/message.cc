#include "shoal/http/message.h"

namespace shoal::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    char lx = static_cast<char>(x | 0x20);
    if (lx != static_cast<char>(y | 0x20) || lx < 'a' || lx > 'z') return false;
  }
  return true;
}

void Headers::add(std::string_view name, std::string_view value) {
  Entry e;
  e.name_offset = static_cast<uint32_t>(data_.size());
  e.name_size = static_cast<uint32_t>(name.size());
  e.value_offset = e.name_offset + e.name_size;
  e.value_size = static_cast<uint32_t>(value.size());
  data_.append(name);
  data_.append(value);
  entries_.push_back(e);
}

std::string_view Headers::get(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name_size == name.size() &&
        iequals(std::string_view(data_).substr(e.name_offset, e.name_size), name)) {
      return std::string_view(data_).substr(e.value_offset, e.value_size);
    }
  }
  return {};
}

bool Headers::contains(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name_size == name.size() &&
        iequals(std::string_view(data_).substr(e.name_offset, e.name_size), name)) {
      return true;
    }
  }
  return false;
}

std::pair<std::string_view, std::string_view> Headers::operator[](size_t i) const {
  const Entry& e = entries_[i];
  std::string_view d(data_);
  return {d.substr(e.name_offset, e.name_size), d.substr(e.value_offset, e.value_size)};
}

void Headers::clear() {
  data_.clear();
  entries_.clear();
}

void Headers::reserve(size_t fields, size_t bytes) {
  entries_.reserve(fields);
  data_.reserve(bytes);
}

std::string_view Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

Response Response::make(unsigned status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

}  // namespace shoal::http
