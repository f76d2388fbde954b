// core::Mapping and the transparent huge page helpers: the mapping is 2 MiB aligned, zeroed,
// a mapping of its own (so its huge page count is its own), and MADV_NOHUGEPAGE gets none.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/huge_pages.hpp"

namespace core = converge::core;

namespace {

// The [start, end) of the /proc/self/smaps mapping that contains p.
std::pair<std::uintptr_t, std::uintptr_t> mapping_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2 && start <= a && a < end) return {start, end};
  }
  return {0, 0};
}

}  // namespace

TEST(HugePages, MappingIsAlignedZeroedAndAMappingOfItsOwn) {
  core::Mapping a(3u << 20, true), b(1u << 20, true);  // adjacent advised mappings would merge without guards
  EXPECT_EQ(a.bytes(), 4u << 20);                       // rounded up to 2 MiB
  EXPECT_EQ(b.bytes(), 2u << 20);
  for (const auto* m : {&a, &b}) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->data()) % (2u << 20), 0u);
    const auto [start, end] = mapping_of(m->data());
    EXPECT_EQ(start, reinterpret_cast<std::uintptr_t>(m->data()));
    EXPECT_EQ(end - start, m->bytes());
    for (std::size_t i = 0; i < m->bytes(); i += 4096) ASSERT_EQ(m->data()[i], 0);
    EXPECT_LE(core::huge_page_bytes(m->data(), m->bytes()), m->bytes());
  }
  EXPECT_NE(a.note().find("madvise(MADV_HUGEPAGE); "), std::string::npos) << a.note();
  EXPECT_NE(a.note().find(" of 4 MiB in huge pages; thp=" + core::thp_mode()), std::string::npos) << a.note();
  if (core::thp_mode() == "never") {
    EXPECT_EQ(core::huge_page_bytes(a.data(), a.bytes()), 0u);
  }
}

TEST(HugePages, NoHugePageAdviceGetsNone) {
  core::Mapping m(8u << 20, false);
  EXPECT_EQ(core::huge_page_bytes(m.data(), m.bytes()), 0u);
  EXPECT_EQ(m.note(), "madvise(MADV_NOHUGEPAGE); 0 KiB of 8 MiB in huge pages; thp=" + core::thp_mode());
}

TEST(HugePages, NoteNamesAdviceAndSizes) {
  EXPECT_EQ(core::huge_page_note(false, 0, 1u << 19),
            "not advised (below 2 MiB); 0 KiB of 512 KiB in huge pages; thp=" + core::thp_mode());
  EXPECT_EQ(core::huge_page_note(true, 2u << 20, 4u << 20),
            "madvise(MADV_HUGEPAGE); 2 MiB of 4 MiB in huge pages; thp=" + core::thp_mode());
}
