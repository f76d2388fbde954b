// core/filesystem.hpp: mountinfo parsing (longest mount point, a later mount hiding an earlier
// one, escapes, superblock options), the "auto" tier directory, and describe_storage on a real
// directory, through a symbolic link, and on a path that does not exist (an error, no figures).
#include "core/filesystem.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

namespace fs = std::filesystem;
using namespace converge::core;

namespace {

const char* kMountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "30 22 0:26 / /scratch rw,nosuid shared:2 - lustre 10.0.0.1@o2ib:/fs rw,flock,lazystatfs\n"
    "31 22 259:0 / /flash rw,noatime - xfs /dev/nvme0n1 rw,attr2,inode64\n"
    "32 31 259:1 / /flash rw,noatime - xfs /dev/nvme1n1 rw,attr2,inode64,noquota\n"
    "33 22 0:40 / /mnt/my\\040disk rw - ext4 /dev/sdb\\0401 rw\n"
    "not a mountinfo line\n";

FilesystemInfo parse(const std::string& path) {
  std::istringstream in(kMountinfo);
  return filesystem_in_mountinfo(path, in);
}

// A fresh directory under the system temp dir, removed with everything in it.
struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("converge_filesystem_test_" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

}  // namespace

TEST(Filesystem, LongestMountPointHoldingThePath) {
  const auto lustre = parse("/scratch/user/run1");
  EXPECT_EQ(lustre.type, "lustre");
  EXPECT_EQ(lustre.mount_point, "/scratch");
  EXPECT_EQ(lustre.source, "10.0.0.1@o2ib:/fs");
  EXPECT_EQ(lustre.options, "rw,nosuid,flock,lazystatfs");  // the mount's, then the superblock's not listed
  // "/scratchy" is not under "/scratch".
  EXPECT_EQ(parse("/scratchy").mount_point, "/");
  EXPECT_EQ(parse("/scratchy").type, "ext4");
  EXPECT_EQ(parse("/scratchy").options, "rw,relatime,errors=remount-ro");
}

TEST(Filesystem, ALaterMountHidesAnEarlierOneAndEscapesAreUndone) {
  const auto flash = parse("/flash/tmp");
  EXPECT_EQ(flash.source, "/dev/nvme1n1");
  EXPECT_EQ(flash.options, "rw,noatime,attr2,inode64,noquota");
  const auto disk = parse("/mnt/my disk/x");
  EXPECT_EQ(disk.mount_point, "/mnt/my disk");
  EXPECT_EQ(disk.source, "/dev/sdb 1");
  std::istringstream empty("");
  EXPECT_EQ(filesystem_in_mountinfo("/x", empty).type, "");
}

TEST(Filesystem, AutoTierDirectory) {
  EXPECT_EQ(io_directory("/scratch/x", "/a", "/b"), "/scratch/x");
  EXPECT_EQ(io_directory("auto", "/a", "/b"), "/a");
  EXPECT_EQ(io_directory("auto", "", "/b"), "/b");
  EXPECT_EQ(io_directory("", nullptr, "/b"), "/b");
  EXPECT_EQ(io_directory("auto", nullptr, nullptr), "/tmp");
  EXPECT_EQ(io_directory("auto", nullptr, ""), "/tmp");
}

TEST(Filesystem, ErrnoNames) {
  EXPECT_EQ(errno_name(ENOSPC), "ENOSPC");
  EXPECT_EQ(errno_name(4000), "errno 4000");
  EXPECT_EQ(io_error(ENOENT, "opening /x"), "ENOENT: No such file or directory: opening /x");
}

TEST(Filesystem, DescribeStorageOfARealDirectoryThroughALink) {
  TempDir dir;
  fs::create_directory(dir.path / "tier");
  fs::create_directory_symlink(dir.path / "tier", dir.path / "link");
  const auto s = describe_storage("flash", (dir.path / "link").string());
  ASSERT_EQ(s.error, "");
  EXPECT_EQ(s.tier, "flash");
  EXPECT_EQ(s.path, (dir.path / "link").string());  // as given
  EXPECT_EQ(s.real_path, fs::canonical(dir.path / "tier").string());
  const auto direct = filesystem_of(s.real_path);
  EXPECT_FALSE(s.type.empty());
  EXPECT_EQ(s.type, direct.type);
  EXPECT_EQ(s.mount_point, direct.mount_point);
  EXPECT_EQ(s.options, direct.options);
  EXPECT_GT(s.total_bytes, 0u);
  EXPECT_LE(s.available_bytes, s.total_bytes);
}

TEST(Filesystem, DescribeStorageOfAutoUsesTheEnvironment) {
  TempDir dir;
  const char* before = std::getenv("CONVERGE_IO_DIR");
  const std::string saved = before ? before : "";
  setenv("CONVERGE_IO_DIR", dir.path.c_str(), 1);
  const auto s = describe_storage("", "auto");
  if (before) setenv("CONVERGE_IO_DIR", saved.c_str(), 1);
  else unsetenv("CONVERGE_IO_DIR");
  ASSERT_EQ(s.error, "");
  EXPECT_EQ(s.path, "auto");
  EXPECT_EQ(s.real_path, fs::canonical(dir.path).string());
}

TEST(Filesystem, DescribeStorageOfAMissingPathSaysWhyAndInventsNothing) {
  TempDir dir;
  const std::string missing = (dir.path / "no-such-tier").string();
  const auto s = describe_storage("bb", missing);
  EXPECT_EQ(s.error, "ENOENT: No such file or directory: resolving the tier path " + missing);
  EXPECT_EQ(s.tier, "bb");
  EXPECT_EQ(s.path, missing);
  EXPECT_EQ(s.real_path, "");
  EXPECT_EQ(s.type, "");
  EXPECT_EQ(s.total_bytes, 0u);
  EXPECT_EQ(s.available_bytes, 0u);
}
