#include "shoal/ctl/format.h"

#include <gtest/gtest.h>

namespace shoal::ctl {
namespace {

TEST(HumanBytes, Units) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KB");
  EXPECT_EQ(human_bytes(1536), "1.5 KB");
  EXPECT_EQ(human_bytes(512 * 1024), "512 KB");
  EXPECT_EQ(human_bytes(12ull * 1024 * 1024 + 30000), "12.0 MB");
  EXPECT_EQ(human_bytes(uint64_t(3.2 * 1024 * 1024 * 1024)), "3.2 GB");
  EXPECT_EQ(human_bytes(5ull << 40), "5.0 TB");
  // 1023.9 KB would print as "1024 KB": it is 1.0 MB.
  EXPECT_EQ(human_bytes(1024 * 1024 - 10), "1.0 MB");
  EXPECT_EQ(human_bytes(UINT64_MAX), "16.0 EB");
}

TEST(Hash, PrintsAndParses) {
  EXPECT_EQ(hex_hash(0), "0x0000000000000000");
  EXPECT_EQ(hex_hash(UINT64_MAX), "0xffffffffffffffff");
  EXPECT_EQ(hex_hash(0x7fffffffffffffffull), "0x7fffffffffffffff");
  EXPECT_EQ(parse_hash("0x8000000000000000"), 0x8000000000000000ull);
  EXPECT_EQ(parse_hash("0XfF"), 255u);
  EXPECT_EQ(parse_hash("12345"), 12345u);
  EXPECT_EQ(parse_hash("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_hash(hex_hash(0x1234abcd)), 0x1234abcdu);
  EXPECT_FALSE(parse_hash(""));
  EXPECT_FALSE(parse_hash("0x"));
  EXPECT_FALSE(parse_hash("0x10000000000000000"));  // 17 digits
  EXPECT_FALSE(parse_hash("18446744073709551616"));  // 2^64
  EXPECT_FALSE(parse_hash("-1"));
  EXPECT_FALSE(parse_hash("12a"));
  EXPECT_FALSE(parse_hash("0xg"));
  EXPECT_FALSE(parse_hash(" 1"));
}

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration_ms("0"), 0);
  EXPECT_EQ(parse_duration_ms("90s"), 90000);
  EXPECT_EQ(parse_duration_ms("30m"), 1800000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("2d"), 172800000);
  EXPECT_FALSE(parse_duration_ms(""));
  EXPECT_FALSE(parse_duration_ms("h"));
  EXPECT_FALSE(parse_duration_ms("10"));
  EXPECT_FALSE(parse_duration_ms("-1h"));
  EXPECT_FALSE(parse_duration_ms("1.5h"));
  EXPECT_FALSE(parse_duration_ms("10000000000s"));  // too long to be meant
}

TEST(TextTable, AlignsColumnsAndNumbers) {
  TextTable t({"NAME", "ITEMS", "SIZE", "NOTE"});
  t.add_row({"orders", "1200", "1.5 KB", "-"});
  t.add_row({"a", "7", "12.0 MB", "split at 0x01 -> t.2"});
  EXPECT_EQ(t.render(),
            "NAME    ITEMS     SIZE  NOTE\n"
            "orders   1200   1.5 KB  -\n"
            "a           7  12.0 MB  split at 0x01 -> t.2\n");
}

TEST(TextTable, EmptyShortRowsAndPlaceholders) {
  TextTable empty({"A", "BB"});
  EXPECT_EQ(empty.render(), "A  BB\n");
  TextTable t({"ID", "ITEMS", "X"});
  t.add_row({"p1", "-"});  // short row; "-" alone does not make ITEMS numeric
  t.add_row({"p2", "-", "yes"});
  EXPECT_EQ(t.render(),
            "ID  ITEMS  X\n"
            "p1  -\n"
            "p2  -      yes\n");
  TextTable mixed({"N"});
  mixed.add_row({"10"});
  mixed.add_row({"-"});
  EXPECT_EQ(mixed.render(), " N\n10\n -\n");
}

TEST(ProgressBar, Renders) {
  EXPECT_EQ(progress_bar(0, 10, 10), "[..........]  0/10   0%");
  EXPECT_EQ(progress_bar(5, 10, 10), "[#####.....]  5/10  50%");
  EXPECT_EQ(progress_bar(10, 10, 10), "[##########] 10/10 100%");
  EXPECT_EQ(progress_bar(12, 10, 10), "[##########] 10/10 100%");  // clamped
  EXPECT_EQ(progress_bar(0, 0, 4), "[####] 0/0 100%");           // nothing to do is done
  EXPECT_EQ(progress_bar(1, 3, 6), "[##....] 1/3  33%");
  EXPECT_EQ(progress_bar(1, 2, 0), "[.] 1/2  50%");  // width at least 1; cells round down
  EXPECT_EQ(progress_bar(2, 3).size(), progress_bar(3, 3).size());  // stable width
}

TEST(ShortDuration, Forms) {
  EXPECT_EQ(short_duration(0), "0s");
  EXPECT_EQ(short_duration(-3), "0s");
  EXPECT_EQ(short_duration(42), "42s");
  EXPECT_EQ(short_duration(65), "1m05s");
  EXPECT_EQ(short_duration(3720), "1h02m");
}

}  // namespace
}  // namespace shoal::ctl
