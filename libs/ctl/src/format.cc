#include "shoal/ctl/format.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace shoal::ctl {

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB", "EB"};
  double v = double(bytes) / 1024.0;
  size_t unit = 0;
  // Promote when the printed figure would read 1024 of a unit.
  while (unit + 1 < std::size(kUnits) && v >= 1023.5) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (v < 99.95) {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, kUnits[unit]);
  }
  return buf;
}

std::string hex_hash(uint64_t hash) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  if (text == "0") return 0;
  if (text.size() < 2 || text.size() > 10) return std::nullopt;
  int64_t unit;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 24 * 3600 * 1000; break;
    default: return std::nullopt;
  }
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n * unit;
}

std::optional<uint64_t> parse_hash(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    std::string_view digits = text.substr(2);
    if (digits.size() > 16) return std::nullopt;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return std::nullopt;
      v = (v << 4) | uint64_t(d);
    }
    return v;
  }
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

namespace {
bool numeric(std::string_view s) {
  if (s.empty() || s == "-") return true;  // a placeholder does not decide the alignment
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') digit = true;
    else if (c != '.' && c != ',' && c != ' ' && !(c >= 'A' && c <= 'Z')) return false;
  }
  // Digits first: "12", "1.5 KB", "3 B" are numbers; "ACTIVE" is not.
  return digit && s.front() >= '0' && s.front() <= '9';
}
}  // namespace

std::string TextTable::render() const {
  size_t cols = header_.size();
  for (const auto& r : rows_) cols = std::max(cols, r.size());
  std::vector<size_t> width(cols, 0);
  std::vector<bool> right(cols, !rows_.empty());
  auto cell = [](const std::vector<std::string>& row, size_t i) -> std::string_view {
    return i < row.size() ? std::string_view(row[i]) : std::string_view();
  };
  for (size_t i = 0; i < cols; ++i) {
    width[i] = cell(header_, i).size();
    bool any_value = false;
    for (const auto& r : rows_) {
      width[i] = std::max(width[i], cell(r, i).size());
      std::string_view c = cell(r, i);
      if (!c.empty() && c != "-") any_value = true;
      if (!numeric(c)) right[i] = false;
    }
    if (!any_value) right[i] = false;
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string l;
    for (size_t i = 0; i < cols; ++i) {
      std::string_view c = cell(row, i);
      if (i > 0) l.append(2, ' ');
      size_t pad = width[i] - c.size();
      if (right[i]) l.append(pad, ' ').append(c);
      else l.append(c).append(pad, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out.append(l).push_back('\n');
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string progress_bar(uint64_t done, uint64_t total, int width) {
  if (width < 1) width = 1;
  if (done > total) done = total;
  // Integer shares, so 1/3 of 6 cells is exactly 2 whatever the floating point says.
  auto share = [&](uint64_t of) -> uint64_t {
    if (total == 0) return of;
    return static_cast<uint64_t>(static_cast<unsigned __int128>(done) * of / total);
  };
  auto filled = static_cast<size_t>(share(uint64_t(width)));
  std::string s = "[";
  s.append(filled, '#').append(size_t(width) - filled, '.').append("] ");
  std::string t = std::to_string(total);
  std::string d = std::to_string(done);
  s.append(t.size() - std::min(t.size(), d.size()), ' ').append(d).append("/").append(t);
  char pct[16];
  std::snprintf(pct, sizeof pct, " %3d%%", static_cast<int>(share(100)));
  s.append(pct);
  return s;
}

std::string short_duration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  }
  return buf;
}

}  // namespace shoal::ctl
