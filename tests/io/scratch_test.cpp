// The IO safety layer: named errors, nothing left behind on every path (destructor, clean,
// exit, SIGINT/SIGTERM/SIGHUP), no link followed or removed, the space refusal, a vanished
// directory, the data pattern.
#include "io/scratch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace io = converge::io;

namespace {

// A private directory standing for a tier (and one standing for "outside"), removed after.
struct TempDir {
  std::string path;
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string templ = std::string(t && *t ? t : "/tmp") + "/converge-scratch-test-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp");
    path = buf.data();
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::string& p, const std::string& text) { std::ofstream(p) << text; }

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST(IoErrors, NamesAndMessages) {
  EXPECT_EQ(io::errno_name(ENOSPC), "ENOSPC");
  for (int e : {ENOSPC, EDQUOT, EACCES, EPERM, EROFS, ENOENT, ENOTDIR, EEXIST, ELOOP, EIO, EINVAL, EFBIG, EMFILE,
                ENFILE, ENAMETOOLONG, EBADF, EISDIR, ESTALE})
    EXPECT_EQ(io::errno_name(e).rfind("E", 0), 0u) << e;
  EXPECT_EQ(io::errno_name(4000), "errno 4000");
  EXPECT_EQ(io::io_error(ENOSPC, "writing /t/f.0 at offset 1048576"),
            "ENOSPC: No space left on device: writing /t/f.0 at offset 1048576");
}

TEST(IoScratch, CreatesAndRemovesEverything) {
  TempDir tier;
  {
    auto s = io::Scratch::create(tier.path, 1 << 20);
    ASSERT_TRUE(s) << s.error();
    auto& sc = **s;
    EXPECT_TRUE(sc.owner());
    EXPECT_EQ(sc.path().rfind(tier.path + "/converge-io-", 0), 0u) << sc.path();
    struct stat st {};
    ASSERT_EQ(::stat(sc.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_TRUE(sc.make_dir("d"));
    ASSERT_TRUE(sc.make_dir("d/e"));
    for (const char* name : {"f.0", "d/f.1", "d/e/f.2"}) {
      auto fd = sc.create_file(name, O_WRONLY);
      ASSERT_TRUE(fd) << fd.error();
      std::uint64_t buf[512];
      io::fill_pattern(buf, sizeof buf, 7, 0, 0);
      ASSERT_TRUE(io::write_all(*fd, buf, sizeof buf, 0, name));
      ::close(*fd);
    }
    auto again = sc.create_file("f.0", O_WRONLY);
    ASSERT_FALSE(again);
    EXPECT_TRUE(contains(again.error(), "EEXIST")) << again.error();
    ASSERT_TRUE(sc.remove_file("d/f.1"));
    EXPECT_FALSE(exists(sc.path() + "/d/f.1"));
    EXPECT_FALSE(sc.remove_file("d/f.1"));  // forgotten once removed
    ASSERT_TRUE(sc.clean());
    EXPECT_TRUE(entries(sc.path()).empty());
    // Usable again after clean(), and the destructor removes the rest.
    auto fd = sc.create_file("f.0", O_RDWR);
    ASSERT_TRUE(fd) << fd.error();
    ::close(*fd);
    ASSERT_TRUE(sc.make_dir("x"));
  }
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratch, RefusesBadNamesAndForeignFiles) {
  TempDir tier;
  auto s = io::Scratch::create(tier.path, 0);
  ASSERT_TRUE(s) << s.error();
  for (const char* bad : {"", "/etc/passwd", "../x", "a//b", "a/", "./a", "a/../b"}) {
    auto fd = (*s)->create_file(bad, O_WRONLY);
    ASSERT_FALSE(fd) << bad;
    EXPECT_TRUE(contains(fd.error(), "EINVAL") || contains(fd.error(), "ENAMETOOLONG")) << fd.error();
  }
  EXPECT_FALSE((*s)->create_file(std::string(256, 'a'), O_WRONLY));
  // A file someone else put there is neither removed by name nor by clean().
  write_text((*s)->path() + "/foreign", "keep");
  auto r = (*s)->remove_file("foreign");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error(), "not a file this process created")) << r.error();
  ASSERT_TRUE((*s)->clean());
  EXPECT_EQ(read_text((*s)->path() + "/foreign"), "keep");
  ::unlink(((*s)->path() + "/foreign").c_str());
  auto open_creating = (*s)->open_file("new", O_WRONLY | O_CREAT);
  EXPECT_FALSE(open_creating);
  EXPECT_FALSE(exists((*s)->path() + "/new"));
}

TEST(IoScratch, PlantedSymlinkIsNeitherFollowedNorRemoved) {
  TempDir tier, outside;
  std::string target = outside.path + "/precious";
  write_text(target, "precious data");
  std::string dir;
  {
    auto s = io::Scratch::create(tier.path, 1 << 20);
    ASSERT_TRUE(s) << s.error();
    dir = (*s)->path();
    // Planted under the name the benchmark is about to create.
    ASSERT_EQ(::symlink(target.c_str(), (dir + "/f.0").c_str()), 0);
    auto fd = (*s)->create_file("f.0", O_WRONLY | O_TRUNC);
    ASSERT_FALSE(fd);
    EXPECT_TRUE(contains(fd.error(), "EEXIST")) << fd.error();
    auto opened = (*s)->open_file("f.0", O_RDWR | O_TRUNC);
    ASSERT_FALSE(opened);
    EXPECT_TRUE(contains(opened.error(), "ELOOP")) << opened.error();
    // A link standing for a directory component is not followed either.
    ASSERT_EQ(::symlink(outside.path.c_str(), (dir + "/d").c_str()), 0);
    auto below = (*s)->create_file("d/f.1", O_WRONLY);
    ASSERT_FALSE(below);
    EXPECT_TRUE(contains(below.error(), "ELOOP")) << below.error();
    EXPECT_FALSE((*s)->make_dir("d/e"));
    EXPECT_FALSE((*s)->open_file("d/precious", O_RDONLY));
    EXPECT_FALSE((*s)->remove_file("f.0"));
  }
  EXPECT_EQ(read_text(target), "precious data");
  EXPECT_EQ(entries(outside.path), std::vector<std::string>{"precious"});
  // The links are not ours: they stay, so the scratch directory stays, with them only.
  auto left = entries(dir);
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"d", "f.0"}));
}

TEST(IoScratch, TierMustBeARealDirectory) {
  TempDir tier, other;
  auto missing = io::Scratch::create(tier.path + "/nope", 0);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.error(), "ENOENT")) << missing.error();
  write_text(tier.path + "/file", "x");
  auto file = io::Scratch::create(tier.path + "/file", 0);
  ASSERT_FALSE(file);
  EXPECT_TRUE(contains(file.error(), "ENOTDIR")) << file.error();
  ASSERT_EQ(::symlink(other.path.c_str(), (tier.path + "/link").c_str()), 0);
  auto link = io::Scratch::create(tier.path + "/link", 0);
  ASSERT_FALSE(link);
  EXPECT_TRUE(contains(link.error(), "ELOOP")) << link.error();
  EXPECT_TRUE(entries(other.path).empty());
}

TEST(IoScratch, RefusesWhenDataWouldNotFit) {
  TempDir tier;
  auto space = io::space_of(tier.path);
  ASSERT_TRUE(space) << space.error();
  ASSERT_GT(space->available_bytes, 0u);
  // Fits alone, not with the 10% margin.
  std::uint64_t need = space->available_bytes / 100 * 95;
  auto s = io::Scratch::create(tier.path, need);
  ASSERT_FALSE(s);
  auto fs = io::filesystem_of(tier.path);
  EXPECT_TRUE(contains(s.error(), "not enough space on " + tier.path + " (" + fs.type + "): needs ")) << s.error();
  EXPECT_TRUE(contains(s.error(), "(+10% margin)")) << s.error();
  EXPECT_TRUE(contains(s.error(), "iB available") || contains(s.error(), " B available")) << s.error();
  EXPECT_TRUE(entries(tier.path).empty());
  // Inodes likewise, where the filesystem counts them.
  auto i = io::Scratch::create(tier.path, 0, ~std::uint64_t(0) >> 1);
  if (!i) {
    EXPECT_TRUE(contains(i.error(), "not enough inodes")) << i.error();
  }
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratch, VanishedDirectoryIsNamed) {
  TempDir tier;
  auto s = io::Scratch::create(tier.path, 0);
  ASSERT_TRUE(s) << s.error();
  auto fd = (*s)->create_file("f.0", O_WRONLY);
  ASSERT_TRUE(fd);
  ::close(*fd);
  std::system(("rm -rf '" + (*s)->path() + "'").c_str());
  auto created = (*s)->create_file("f.1", O_WRONLY);
  auto made = (*s)->make_dir("d");
  ASSERT_FALSE(created);
  ASSERT_FALSE(made);
  for (const auto& err : {created.error(), made.error()}) {
    EXPECT_TRUE(contains(err, "ENOENT: ")) << err;
    EXPECT_TRUE(contains(err, "the scratch directory " + (*s)->path() + " vanished")) << err;
  }
  EXPECT_TRUE((*s)->clean());  // what vanished needs no removing
  s->reset();
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratch, JoinedDirectoryKeepsTheOwnersFiles) {
  TempDir tier;
  auto owner = io::Scratch::create(tier.path, 0);
  ASSERT_TRUE(owner) << owner.error();
  auto fd = (*owner)->create_file("rank0", O_WRONLY);
  ASSERT_TRUE(fd);
  ::close(*fd);
  {
    auto joined = io::Scratch::join((*owner)->path());
    ASSERT_TRUE(joined) << joined.error();
    EXPECT_FALSE((*joined)->owner());
    auto fd1 = (*joined)->create_file("rank1", O_WRONLY);
    ASSERT_TRUE(fd1);
    ::close(*fd1);
    auto opened = (*joined)->open_file("rank0", O_RDONLY);
    ASSERT_TRUE(opened) << opened.error();
    ::close(*opened);
    EXPECT_FALSE((*joined)->remove_file("rank0"));
    // Into a directory the owner made; then the owner makes it afresh between two phases.
    ASSERT_TRUE((*owner)->make_dir("shared"));
    auto a = (*joined)->create_file("shared/a", O_WRONLY);
    ASSERT_TRUE(a) << a.error();
    ::close(*a);
    ASSERT_TRUE((*joined)->remove_file("shared/a"));
    ASSERT_TRUE((*owner)->clean());
    EXPECT_FALSE(exists((*owner)->path() + "/rank0"));
    ASSERT_TRUE((*owner)->make_dir("shared"));
    auto b = (*joined)->create_file("shared/b", O_WRONLY);
    ASSERT_TRUE(b) << b.error();
    ::close(*b);
    ASSERT_TRUE((*joined)->remove_file("shared/b"));
    auto r0 = (*owner)->create_file("rank0", O_WRONLY);
    ASSERT_TRUE(r0);
    ::close(*r0);
  }
  auto owned = entries((*owner)->path());
  std::sort(owned.begin(), owned.end());
  EXPECT_EQ(owned, (std::vector<std::string>{"rank0", "shared"}));
  owner->reset();
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratch, ReadAllNamesTheShortRead) {
  TempDir tier;
  auto s = io::Scratch::create(tier.path, 0);
  ASSERT_TRUE(s);
  auto fd = (*s)->create_file("f", O_RDWR);
  ASSERT_TRUE(fd);
  char buf[4096] = {};
  ASSERT_TRUE(io::write_all(*fd, buf, 1000, 0, "writing f"));
  auto r = io::read_all(*fd, buf, 4096, 0, "reading f");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error(), "end of file at offset 1000")) << r.error();
  EXPECT_TRUE(contains(r.error(), "reading f")) << r.error();
  auto w = io::write_all(-1, buf, 8, 64, "writing g");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), "EBADF: Bad file descriptor: writing g at offset 64");
  ::close(*fd);
}

TEST(IoFilesystem, FindsTheMount) {
  auto proc = io::filesystem_of("/proc/self");
  EXPECT_EQ(proc.type, "proc");
  EXPECT_EQ(proc.mount_point, "/proc");
  TempDir tier;
  auto fs = io::filesystem_of(tier.path);
  EXPECT_FALSE(fs.type.empty());
  EXPECT_EQ(tier.path.rfind(fs.mount_point == "/" ? "/" : fs.mount_point + "/", 0), 0u);
  EXPECT_FALSE(fs.options.empty());
}

// ---- every exit path ------------------------------------------------------------------------

namespace {

enum class Ending { RaiseSigint, ParentSigterm, ParentSighup, Exit };

// A child makes a Scratch with files and directories, then ends as told. Returns its status.
int child_status(const std::string& tier, Ending ending) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    auto s = io::Scratch::create(tier, 1 << 20);
    if (!s || !(*s)->make_dir("d")) ::_exit(3);
    for (int i = 0; i < 20; ++i) {
      auto fd = (*s)->create_file((i % 2 ? "d/f." : "f.") + std::to_string(i), O_WRONLY);
      if (!fd) ::_exit(4);
      char buf[4096] = {};
      if (!io::write_all(*fd, buf, sizeof buf, 0, "f")) ::_exit(5);
      ::close(*fd);
    }
    if (ending == Ending::RaiseSigint) ::raise(SIGINT);
    if (ending == Ending::Exit) {
      s->release();  // leaked: only the atexit path can remove it
      std::exit(0);
    }
    char c = 'r';
    if (::write(ready[1], &c, 1) != 1) ::_exit(6);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  if (ending == Ending::ParentSigterm || ending == Ending::ParentSighup) {
    char c;
    if (::read(ready[0], &c, 1) == 1) ::kill(pid, ending == Ending::ParentSigterm ? SIGTERM : SIGHUP);
  }
  ::close(ready[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST(IoScratchSignals, SigintRemovesEverythingAndKillsBySigint) {
  TempDir tier;
  int status = child_status(tier.path, Ending::RaiseSigint);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratchSignals, SigtermFromOutside) {
  TempDir tier;
  int status = child_status(tier.path, Ending::ParentSigterm);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratchSignals, Sighup) {
  TempDir tier;
  int status = child_status(tier.path, Ending::ParentSighup);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGHUP);
  EXPECT_TRUE(entries(tier.path).empty());
}

TEST(IoScratchSignals, ExitWithoutDestroying) {
  TempDir tier;
  int status = child_status(tier.path, Ending::Exit);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(entries(tier.path).empty());
}

// The owner of a shared directory gone first (killed alone, or tired of waiting): a joined
// rank killed later removes its files and the directory, now empty.
TEST(IoScratchSignals, JoinedRankRemovesTheEmptiedDirectory) {
  TempDir tier;
  auto owner = io::Scratch::create(tier.path, 0);
  ASSERT_TRUE(owner) << owner.error();
  const std::string dir = (*owner)->path();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto s = io::Scratch::join(dir);
    if (!s) ::_exit(3);
    auto fd = (*s)->create_file("rank1", O_WRONLY);
    if (!fd) ::_exit(4);
    if (::write(ready[1], "r", 1) != 1) ::_exit(6);
    for (;;) ::pause();
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  owner->reset();  // cannot remove it: rank1 is still there (a warning on stderr)
  EXPECT_EQ(entries(dir), std::vector<std::string>{"rank1"});
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_TRUE(entries(tier.path).empty());
}

// A signal arriving while files are being created and removed (the window between a create
// and its record is closed by deferring the handler): nothing left, whenever it lands.
TEST(IoScratchSignals, SigintAtAnyMomentOfCreateAndRemove) {
  TempDir tier;
  for (int round = 0; round < 20; ++round) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      auto s = io::Scratch::create(tier.path, 1 << 20, 64);
      if (!s || !(*s)->make_dir("d")) ::_exit(3);
      if (::write(ready[1], "r", 1) != 1) ::_exit(6);
      for (long i = 0;; ++i) {
        auto fd = (*s)->create_file("d/f." + std::to_string(i), O_WRONLY);
        if (!fd) ::_exit(4);
        ::close(*fd);
        if (i >= 16 && !(*s)->remove_file("d/f." + std::to_string(i - 16))) ::_exit(5);
      }
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
    ::usleep(useconds_t(200 + 997 * (round % 7)));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": exit status " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGINT);
    ASSERT_TRUE(entries(tier.path).empty()) << "round " << round;
  }
}

// A handler installed before the first Scratch still runs, after the cleanup. Needs a fresh
// process (the table's handlers are installed once per process): the test runs itself.
namespace {
void previous_handler(int) { ::_exit(42); }
}  // namespace

TEST(IoScratchSignals, ChainsToThePreviousHandler) {
  if (const char* tier = std::getenv("CONVERGE_SCRATCH_CHAIN_TIER")) {  // the re-run child
    struct sigaction sa {};
    sa.sa_handler = previous_handler;
    ::sigaction(SIGTERM, &sa, nullptr);
    auto s = io::Scratch::create(tier, 1 << 20);
    if (!s || !(*s)->make_dir("d")) ::_exit(3);
    auto fd = (*s)->create_file("d/f", O_WRONLY);
    if (!fd) ::_exit(4);
    ::raise(SIGTERM);
    ::_exit(5);
  }
  TempDir tier;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("CONVERGE_SCRATCH_CHAIN_TIER", tier.path.c_str(), 1);
    ::execl("/proc/self/exe", "io_tests", "--gtest_filter=IoScratchSignals.ChainsToThePreviousHandler",
            static_cast<char*>(nullptr));
    ::_exit(7);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
  EXPECT_TRUE(entries(tier.path).empty());
}

// ---- the data pattern -----------------------------------------------------------------------

TEST(IoPattern, FindsAFlippedWordAtItsOffset) {
  std::vector<std::uint64_t> buf(4096);
  const std::uint64_t base = 1 << 20;
  io::fill_pattern(buf.data(), buf.size() * 8, 42, 3, base);
  EXPECT_EQ(io::check_pattern(buf.data(), buf.size() * 8, 42, 3, base), -1);
  EXPECT_NE(io::check_pattern(buf.data(), buf.size() * 8, 42, 4, base), -1);  // another file's data
  EXPECT_NE(io::check_pattern(buf.data(), buf.size() * 8, 43, 3, base), -1);  // another seed
  EXPECT_NE(io::check_pattern(buf.data(), buf.size() * 8, 42, 3, base + 8), -1);  // shifted
  buf[1000] ^= ~std::uint64_t(0);
  EXPECT_EQ(io::check_pattern(buf.data(), buf.size() * 8, 42, 3, base), 8000);
  buf[1000] ^= ~std::uint64_t(0);
  reinterpret_cast<unsigned char*>(buf.data())[8005] ^= 0x10;  // one bit: the byte is named
  EXPECT_EQ(io::check_pattern(buf.data(), buf.size() * 8, 42, 3, base), 8005);
}

TEST(IoPattern, StampingTurnsOneTransferIntoAnother) {
  const std::size_t transfer = 64 << 10;
  std::vector<unsigned char> buf(transfer), want(transfer);
  io::fill_pattern(buf.data(), transfer, 42, 3, 0, transfer);  // filled once
  for (std::uint64_t t : {5u, 1u, 77u}) {
    io::stamp_pattern(buf.data(), transfer, 42, 3, t * transfer);
    io::fill_pattern(want.data(), transfer, 42, 3, t * transfer, transfer);
    ASSERT_EQ(0, std::memcmp(buf.data(), want.data(), transfer)) << "transfer " << t;
    EXPECT_EQ(io::check_pattern(buf.data(), transfer, 42, 3, t * transfer, transfer), -1);
    EXPECT_NE(io::check_pattern(buf.data(), transfer, 42, 3, t * transfer), -1);  // another period
  }
}

TEST(IoPattern, ASectorFromAnotherOffsetOrFileIsCaughtAtItsStamp) {
  const std::size_t n = 8192;
  std::vector<unsigned char> a(n), b(n), c(n);
  io::fill_pattern(a.data(), n, 42, 3, 0);
  io::fill_pattern(b.data(), n, 42, 3, 1 << 20);  // same position in the next period
  io::fill_pattern(c.data(), n, 42, 4, 0);        // another file
  std::memcpy(a.data() + 5 * 512, b.data() + 5 * 512, 512);
  const auto at_stamp = [](std::int64_t bad, std::int64_t sector) {
    return bad >= sector * 512 && bad < sector * 512 + 8;
  };
  EXPECT_PRED2(at_stamp, io::check_pattern(a.data(), n, 42, 3, 0), 5);  // the stamp word's first differing byte
  io::fill_pattern(a.data(), n, 42, 3, 0);
  std::memcpy(a.data() + 7 * 512, c.data() + 7 * 512, 512);
  EXPECT_PRED2(at_stamp, io::check_pattern(a.data(), n, 42, 3, 0), 7);
}

TEST(IoPattern, WordsAreDistinctWithinAPeriod) {  // no run of equal data a compressor or dedup could use
  std::vector<std::uint64_t> w((1 << 20) / 8);
  io::fill_pattern(w.data(), w.size() * 8, 42, 3, 0);
  std::sort(w.begin(), w.end());
  EXPECT_EQ(std::unique(w.begin(), w.end()), w.end());
}

TEST(IoPattern, PeriodIsAMultipleOf512) {
  unsigned char buf[64];
  EXPECT_THROW(io::fill_pattern(buf, sizeof buf, 1, 2, 0, 1000), std::invalid_argument);
  EXPECT_THROW(io::check_pattern(buf, sizeof buf, 1, 2, 0, 0), std::invalid_argument);
}

TEST(IoPattern, AnyRangeReadsTheSameBytes) {
  std::vector<unsigned char> whole(256), part(101);
  io::fill_pattern(whole.data(), whole.size(), 1, 2, 0);
  io::fill_pattern(part.data(), part.size(), 1, 2, 13);
  EXPECT_EQ(0, std::memcmp(part.data(), whole.data() + 13, part.size()));
  EXPECT_EQ(io::check_pattern(whole.data() + 13, 101, 1, 2, 13), -1);
  whole[13 + 50] ^= 1;
  EXPECT_EQ(io::check_pattern(whole.data() + 13, 101, 1, 2, 13), 50);
}
