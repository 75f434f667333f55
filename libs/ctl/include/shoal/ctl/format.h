#pragma once
// Text output of shoalctl: human sizes, hash bounds, aligned tables and a progress bar.
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::ctl {

// Bytes in binary units with the names operators expect: "0 B", "999 B", "1.5 KB",
// "12.0 MB", "512 KB", "3.2 GB" (1 KB = 1024 B; one decimal below 100 of a unit).
std::string human_bytes(uint64_t bytes);

// A partition-key hash as shoalctl prints and reads it: "0x" and 16 lowercase hex digits.
std::string hex_hash(uint64_t hash);
// "0x<hex>" (1-16 digits) or a decimal number; nullopt for anything else (sign, overflow,
// trailing characters, empty).
std::optional<uint64_t> parse_hash(std::string_view text);
// A duration as "0", "<n>s", "<n>m", "<n>h" or "<n>d" (n a decimal up to 9 digits), in
// milliseconds; nullopt for anything else.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// Columns aligned with two spaces between them; a header row in capitals. A column whose
// every cell looks like a number is right-aligned. Rows shorter than the header are padded.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t rows() const { return rows_.size(); }
  // Every line ends with '\n'; trailing spaces are trimmed.
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "[#########...........]  9/20  45%" : `width` cells between the brackets. `done` above
// `total` counts as total; total 0 shows a full bar at 100% (nothing to do is done).
std::string progress_bar(uint64_t done, uint64_t total, int width = 30);

// "1m05s", "42s", "1h02m": short elapsed or remaining times for progress lines.
std::string short_duration(int64_t seconds);

}  // namespace shoal::ctl
