// The IO safety layer (scratch.hpp). Two halves: the Scratch operations, in normal context;
// and a process-wide table of every live Scratch's directory descriptors and recorded names,
// laid out so that a signal handler can remove them with async-signal-safe calls only
// (unlinkat/openat/close on saved descriptors, no allocation, no locks). See io/README.md;
// errno names, space, filesystems, whole-buffer IO and the data pattern are in io_util.cpp.
#include "io/scratch.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "core/units.hpp"

namespace converge::io {

namespace {

// ---- the signal-time cleanup table ------------------------------------------------------
// Limits (scratch.md): 64 live Scratch objects per process; 1,048,576 recorded names per
// Scratch (files and directories, live at once); 255 bytes per relative name. Beyond them
// create/join/create_file/make_dir refuse with a message rather than risk leaving files.
constexpr int kMaxSlots = 64;
constexpr std::size_t kMaxName = 255;
constexpr std::size_t kChunkEntries = 4096;
constexpr std::size_t kMaxChunks = 256;

enum Kind : unsigned char { kEmpty = 0, kPending = 1, kFile = 2, kDir = 3 };

struct Entry {
  std::atomic<unsigned char> kind{kEmpty};
  char name[kMaxName + 1] = {};
};

// Read by the handler: written only inside a Critical section (which defers signals), and
// published before `live`.
struct Slot {
  std::atomic<bool> live{false};
  pid_t pid = 0;
  int dirfd = -1;
  int parentfd = -1;  ///< the directory holding it (the tier), to remove it by `dirname`
  bool owner = false;
  std::atomic<bool> dir_removed{false};
  char dirname[NAME_MAX + 1] = {};
  std::atomic<std::size_t> used{0};
  std::atomic<Entry*> chunks[kMaxChunks] = {};
};

// Normal-context bookkeeping beside each slot: name -> entry, reusable entries. `dirs` keeps
// a descriptor on up to kMaxDirFds directories (made with make_dir, or first met as a parent),
// so that nested names are created and removed relative to their own directory in one call.
constexpr std::size_t kMaxDirFds = 256;
struct SlotIndex {
  std::mutex m;
  std::unordered_map<std::string, std::size_t> names;
  std::vector<std::size_t> free;
  std::unordered_map<std::string, int> dirs;
};

Slot g_slots[kMaxSlots];
SlotIndex g_index[kMaxSlots];
std::mutex g_slots_mutex;
std::atomic<int> g_busy{0};         // threads inside a Critical section
std::atomic<int> g_pending{0};      // a signal that arrived while g_busy > 0
std::atomic<int> g_clean_state{0};  // 0 none, 1 cleaning, 2 cleaned (creating refused)
std::atomic<pid_t> g_cleaner{0};
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];
bool g_installed[3] = {};

Entry* entry_at(Slot& s, std::size_t i) {
  Entry* chunk = s.chunks[i / kChunkEntries].load(std::memory_order_acquire);
  return chunk ? &chunk[i % kChunkEntries] : nullptr;
}

// Opens the directory holding `name` (relative, validated) below `dirfd`, one component at a
// time without following links; copies the last component into `base`. Returns the fd (dirfd
// itself when `name` has no '/') or -errno. Async-signal-safe.
int open_parent(int dirfd, const char* name, char* base) {
  int fd = dirfd;
  const char* p = name;
  for (;;) {
    const char* slash = std::strchr(p, '/');
    std::size_t n = slash ? std::size_t(slash - p) : std::strlen(p);
    if (n > kMaxName) n = kMaxName;
    std::memcpy(base, p, n);
    base[n] = '\0';
    if (!slash) return fd;
    int next = ::openat(fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    if (fd != dirfd) ::close(fd);
    if (next < 0) return -err;
    fd = next;
    p = slash + 1;
  }
}

// unlinkat below dirfd without following links; 0 or errno. Async-signal-safe.
int unlink_below(int dirfd, const char* name, int flags) {
  char base[kMaxName + 1];
  int fd = open_parent(dirfd, name, base);
  if (fd < 0) return -fd;
  int rc = ::unlinkat(fd, base, flags);
  int err = rc == 0 ? 0 : errno;
  if (fd != dirfd) ::close(fd);
  return err;
}

int depth_of(const char* name) {
  int d = 0;
  for (; *name; ++name) d += *name == '/';
  return d;
}

// Removes the slot's recorded files, then its directories deepest first; forgets what is
// gone. Returns the first errno other than ENOENT (0 if none). Async-signal-safe.
int remove_entries(Slot& s) {
  int first = 0;
  std::size_t n = s.used.load(std::memory_order_acquire);
  int max_depth = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Entry* e = entry_at(s, i);
    if (!e) continue;
    unsigned char k = e->kind.load(std::memory_order_acquire);
    if (k == kDir && depth_of(e->name) > max_depth) max_depth = depth_of(e->name);
    if (k != kFile) continue;
    int err = unlink_below(s.dirfd, e->name, 0);
    if (err == 0 || err == ENOENT)
      e->kind.store(kEmpty, std::memory_order_release);
    else if (!first)
      first = err;
  }
  for (int d = max_depth; d >= 0; --d) {
    for (std::size_t i = n; i-- > 0;) {
      Entry* e = entry_at(s, i);
      if (!e || e->kind.load(std::memory_order_acquire) != kDir || depth_of(e->name) != d) continue;
      int err = unlink_below(s.dirfd, e->name, AT_REMOVEDIR);
      if (err == 0 || err == ENOENT)
        e->kind.store(kEmpty, std::memory_order_release);
      else if (!first)
        first = err;
    }
  }
  return first;
}

// The scratch directory itself. The owner removes it; at exit or on a signal, other ranks
// may still be emptying a shared one, so ENOTEMPTY is retried for up to 2 s. On a signal a
// joined process also tries once: the owner may have died first (killed alone, or given up
// waiting), and a directory that is empty holds nothing of anyone's. Async-signal-safe.
enum class Ending { kDestructor, kExit, kSignal };
int remove_directory(Slot& s, Ending ending) {
  if (s.dir_removed.load() || s.parentfd < 0) return 0;
  if (!s.owner && ending != Ending::kSignal) return 0;
  for (int tries = 0;; ++tries) {
    if (::unlinkat(s.parentfd, s.dirname, AT_REMOVEDIR) == 0 || errno == ENOENT) {
      s.dir_removed.store(true);
      return 0;
    }
    if (errno != ENOTEMPTY || !s.owner || ending == Ending::kDestructor || tries >= 200) return errno;
    struct timespec ts {0, 10 * 1000 * 1000};
    ::nanosleep(&ts, nullptr);
  }
}

void cleanup_all(Ending ending) {
  pid_t me = ::getpid();
  for (Slot& s : g_slots) {
    if (!s.live.load(std::memory_order_acquire) || s.pid != me) continue;
    remove_entries(s);
    remove_directory(s, ending);
  }
}

// Runs the cleanup once, then the signal's previous disposition: the default action (the
// exit status says "killed by SIGINT") or the handler that was there before ours.
void handle_signal(int sig) {
  pid_t tid = ::gettid();
  int expected = 0;
  if (g_clean_state.compare_exchange_strong(expected, 1)) {
    g_cleaner.store(tid);
    cleanup_all(Ending::kSignal);
    g_clean_state.store(2);
  } else if (g_clean_state.load() == 1) {
    if (g_cleaner.load() == tid) return;  // a signal during our own cleanup: that one chains
    for (int i = 0; i < 10000 && g_clean_state.load() == 1; ++i) {
      struct timespec ts {0, 1000 * 1000};
      ::nanosleep(&ts, nullptr);
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (kSignals[i] != sig) continue;
    if (g_previous[i].sa_handler == SIG_DFL && !(g_previous[i].sa_flags & SA_SIGINFO)) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(sig, &dfl, nullptr);
      ::raise(sig);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    } else {
      ::sigaction(sig, &g_previous[i], nullptr);
      ::raise(sig);  // delivered to the previous handler once ours returns
    }
  }
}

void on_signal(int sig) {
  int saved = errno;
  g_pending.store(sig);
  // Inside a Critical section a file may exist that is not yet recorded: the last thread to
  // leave it handles the signal (~Critical).
  if (g_busy.load() == 0) {
    int s = g_pending.exchange(0);
    if (s) handle_signal(s);
  }
  errno = saved;
}

void cleanup_at_exit() {
  g_busy.fetch_add(1);
  int expected = 0;
  if (g_clean_state.compare_exchange_strong(expected, 1)) {
    g_cleaner.store(::gettid());
    cleanup_all(Ending::kExit);
    g_clean_state.store(2);
  }
  if (g_busy.fetch_sub(1) == 1)
    if (int s = g_pending.exchange(0)) handle_signal(s);
}

void install_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int i = 0; i < 3; ++i) {
      ::sigaction(kSignals[i], nullptr, &g_previous[i]);
      // An ignored SIGHUP (nohup) stays ignored: the process does not stop, nothing to clean.
      if (g_previous[i].sa_handler == SIG_IGN && !(g_previous[i].sa_flags & SA_SIGINFO)) continue;
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      sigemptyset(&sa.sa_mask);
      for (int s : kSignals) sigaddset(&sa.sa_mask, s);
      sa.sa_flags = SA_RESTART;
      g_installed[i] = ::sigaction(kSignals[i], &sa, nullptr) == 0;
    }
    std::atexit(cleanup_at_exit);
  });
}

// Every change to the table and every create happens inside one: a signal arriving meanwhile
// is handled when the last thread leaves, so no created file is ever unrecorded at cleanup.
struct Critical {
  bool refused;
  Critical() {
    g_busy.fetch_add(1);
    refused = g_pending.load() != 0 || g_clean_state.load() != 0;
  }
  ~Critical() {
    if (g_busy.fetch_sub(1) == 1)
      if (int s = g_pending.exchange(0)) handle_signal(s);
  }
};

const char* kRefused = "ECANCELED: a termination signal arrived: the scratch directories were removed";

std::string check_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxName)
    return "ENAMETOOLONG: names in a scratch directory have 1 to 255 bytes: '" + name + "'";
  // Components separated by single '/', none empty, "." or "..", no NUL.
  for (std::size_t start = 0; start <= name.size();) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::size_t n = end - start;
    if (n == 0 || (n == 1 && name[start] == '.') || (n == 2 && name[start] == '.' && name[start + 1] == '.') ||
        std::memchr(name.data() + start, '\0', n))
      return "EINVAL: '" + name + "' is not a plain relative name (no leading, trailing or double '/', no . or ..)";
    start = end + 1;
  }
  return {};
}

// openat2 confined below dirfd with no link anywhere in the path, where the kernel has it
// (5.6); else the same walk as open_parent.
int open_below(int dirfd, const std::string& name, int flags, mode_t mode) {
  if (name.find('/') == std::string::npos) return ::openat(dirfd, name.c_str(), flags, mode);
  static std::atomic<bool> no_openat2{false};
  if (!no_openat2.load()) {
    struct open_how how {};
    how.flags = std::uint64_t(flags);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, dirfd, name.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return int(fd);
    no_openat2.store(true);
  }
  char base[kMaxName + 1];
  int parent = open_parent(dirfd, name.c_str(), base);
  if (parent < 0) {
    errno = -parent;
    return -1;
  }
  int fd = ::openat(parent, base, flags, mode);
  int err = errno;
  ::close(parent);
  errno = err;
  return fd;
}

std::string host_tag() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string tag;
  for (const char* p = host; *p && *p != '.' && tag.size() < 32; ++p)
    tag += (std::isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_';
  return tag.empty() ? "host" : tag;
}

std::string percent(double margin) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", margin * 100);
  return buf;
}

// The user's block and inode quota left on the device holding the tier, where the kernel
// reports one (quotactl on a block device: ext4, xfs); {-1,-1} when there is none to query.
std::pair<std::int64_t, std::int64_t> quota_left(const FilesystemInfo& fs) {
  std::pair<std::int64_t, std::int64_t> left{-1, -1};
  if (fs.source.rfind("/dev/", 0) != 0) return left;
  struct dqblk q {};
  if (::quotactl(QCMD(Q_GETQUOTA, USRQUOTA), fs.source.c_str(), int(::geteuid()), (caddr_t)&q) != 0) return left;
  if ((q.dqb_valid & QIF_BLIMITS) && q.dqb_bhardlimit > 0) {
    std::int64_t limit = std::int64_t(q.dqb_bhardlimit) * 1024;
    left.first = limit > std::int64_t(q.dqb_curspace) ? limit - std::int64_t(q.dqb_curspace) : 0;
  }
  if ((q.dqb_valid & QIF_ILIMITS) && q.dqb_ihardlimit > 0)
    left.second = q.dqb_ihardlimit > q.dqb_curinodes ? std::int64_t(q.dqb_ihardlimit - q.dqb_curinodes) : 0;
  return left;
}

}  // namespace

// ---- Scratch ------------------------------------------------------------------------------

namespace {

// Finds a free slot and fills it; called inside a Critical section.
int take_slot(int dirfd, int parentfd, bool owner, const std::string& dirname) {
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  for (int i = 0; i < kMaxSlots; ++i) {
    Slot& s = g_slots[i];
    if (s.live.load()) continue;
    s.pid = ::getpid();
    s.dirfd = dirfd;
    s.parentfd = parentfd;
    s.owner = owner;
    s.dir_removed.store(false);
    std::snprintf(s.dirname, sizeof s.dirname, "%s", dirname.c_str());
    s.used.store(0);
    s.live.store(true, std::memory_order_release);
    return i;
  }
  return -1;
}

}  // namespace

core::Expected<std::unique_ptr<Scratch>> Scratch::create(const std::string& tier_in, std::uint64_t bytes_needed,
                                                         std::uint64_t inodes_needed, double margin) {
  install_handlers();
  std::string tier = tier_in;
  while (tier.size() > 1 && tier.back() == '/') tier.pop_back();
  int tierfd = ::open(tier.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tierfd < 0) {
    int err = errno;
    // O_DIRECTORY | O_NOFOLLOW on a link says ENOTDIR: name what it is.
    struct stat lst {};
    if (err == ENOTDIR && ::lstat(tier.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) err = ELOOP;
    return core::make_error(io_error(err, err == ELOOP ? "the tier " + tier + " is a symbolic link (give its real path)"
                                                       : "opening the tier " + tier));
  }
  auto fail = [&](std::string msg) {
    ::close(tierfd);
    return core::make_error(std::move(msg));
  };
  struct stat st {};
  if (::fstat(tierfd, &st) != 0) return fail(io_error(errno, "fstat of the tier " + tier));
  if (!S_ISDIR(st.st_mode)) return fail(io_error(ENOTDIR, "the tier " + tier));

  struct statvfs vfs {};
  if (::fstatvfs(tierfd, &vfs) != 0) return fail(io_error(errno, "statvfs of the tier " + tier));
  FilesystemInfo fs = filesystem_of(tier);
  std::string where = tier + " (" + (fs.type.empty() ? "unknown filesystem" : fs.type) + ")";
  std::uint64_t available = std::uint64_t(vfs.f_bavail) * vfs.f_frsize;
  auto needed = std::uint64_t(double(bytes_needed) * (1.0 + margin) + 0.5);
  if (needed > available)
    return fail("not enough space on " + where + ": needs " + core::format_bytes(bytes_needed) + " (+" +
                percent(margin) + " margin), " + core::format_bytes(available) + " available");
  // f_files == 0: the filesystem keeps no inode count (btrfs, some network filesystems).
  if (vfs.f_files != 0 && inodes_needed > vfs.f_favail)
    return fail("not enough inodes on " + where + ": needs " + std::to_string(inodes_needed) + ", " +
                std::to_string(std::uint64_t(vfs.f_favail)) + " available");
  auto [quota_bytes, quota_inodes] = quota_left(fs);
  if (quota_bytes >= 0 && needed > std::uint64_t(quota_bytes))
    return fail("not enough quota on " + where + ": needs " + core::format_bytes(bytes_needed) + " (+" +
                percent(margin) + " margin), " + core::format_bytes(std::uint64_t(quota_bytes)) +
                " left under the user's quota");
  if (quota_inodes >= 0 && inodes_needed > std::uint64_t(quota_inodes))
    return fail("not enough inode quota on " + where + ": needs " + std::to_string(inodes_needed) + ", " +
                std::to_string(quota_inodes) + " left under the user's quota");

  std::random_device rd;
  std::string prefix = "converge-io-" + host_tag() + "-" + std::to_string(::getpid()) + "-";
  std::unique_ptr<Scratch> s(new Scratch());
  Critical critical;
  if (critical.refused) return fail(kRefused);
  for (int attempt = 0;; ++attempt) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%08x", unsigned(rd()));
    std::string name = prefix + suffix;
    if (::mkdirat(tierfd, name.c_str(), 0700) != 0) {
      if (errno == EEXIST && attempt < 8) continue;
      return fail(io_error(errno, "creating the scratch directory " + tier + "/" + name));
    }
    int dirfd = ::openat(tierfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) {
      int err = errno;
      ::unlinkat(tierfd, name.c_str(), AT_REMOVEDIR);
      return fail(io_error(err, "opening the scratch directory " + tier + "/" + name));
    }
    s->slot_ = take_slot(dirfd, tierfd, true, name);
    if (s->slot_ < 0) {
      ::close(dirfd);
      ::unlinkat(tierfd, name.c_str(), AT_REMOVEDIR);
      return fail("EMFILE: more than 64 scratch directories live at once in one process");
    }
    s->path_ = (tier == "/" ? "" : tier) + "/" + name;
    s->dirfd_ = dirfd;
    s->owner_ = true;
    return s;
  }
}

core::Expected<std::unique_ptr<Scratch>> Scratch::join(const std::string& directory) {
  install_handlers();
  std::unique_ptr<Scratch> s(new Scratch());
  int dirfd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0) return core::make_error(io_error(errno, "opening the shared scratch directory " + directory));
  // Where it sits, for the signal-time attempt to remove it once empty: kept only if that
  // name still leads to this very directory.
  std::string dir = directory;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::size_t slash = dir.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  std::string leaf = slash == std::string::npos ? dir : dir.substr(slash + 1);
  int parentfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat a {}, b {};
  if (parentfd >= 0 && (leaf.size() > NAME_MAX || ::fstat(dirfd, &a) != 0 ||
                        ::fstatat(parentfd, leaf.c_str(), &b, AT_SYMLINK_NOFOLLOW) != 0 || a.st_dev != b.st_dev ||
                        a.st_ino != b.st_ino)) {
    ::close(parentfd);
    parentfd = -1;
  }
  Critical critical;
  if (critical.refused) {
    ::close(dirfd);
    if (parentfd >= 0) ::close(parentfd);
    return core::make_error(kRefused);
  }
  s->slot_ = take_slot(dirfd, parentfd, false, parentfd >= 0 ? leaf : "");
  if (s->slot_ < 0) {
    ::close(dirfd);
    if (parentfd >= 0) ::close(parentfd);
    return core::make_error("EMFILE: more than 64 scratch directories live at once in one process");
  }
  s->path_ = directory;
  s->dirfd_ = dirfd;
  s->owner_ = false;
  return s;
}

Scratch::~Scratch() {
  if (slot_ < 0) return;
  auto cleaned = clean();
  if (!cleaned) std::fprintf(stderr, "converge: cleaning %s: %s\n", path_.c_str(), cleaned.error().c_str());
  Critical critical;
  Slot& s = g_slots[slot_];
  if (int err = remove_directory(s, Ending::kDestructor))
    std::fprintf(stderr, "converge: %s\n", io_error(err, "removing the scratch directory " + path_).c_str());
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  s.live.store(false, std::memory_order_release);
  ::close(s.dirfd);
  if (s.parentfd >= 0) ::close(s.parentfd);
  for (auto& c : s.chunks) delete[] c.exchange(nullptr);
  s.used.store(0);
  std::lock_guard<std::mutex> ilock(g_index[slot_].m);
  for (auto& [name, fd] : g_index[slot_].dirs) ::close(fd);
  g_index[slot_].dirs.clear();
  g_index[slot_].names.clear();
  g_index[slot_].free.clear();
}

namespace {

bool vanished(int dirfd) {
  struct stat st {};
  return ::fstat(dirfd, &st) == 0 && st.st_nlink == 0;
}

// The descriptor of the directory holding `name`: the scratch directory, or a cached one (made
// by make_dir, or opened here on first use, without following links: a directory another
// rank made in a joined Scratch), or -1 past the cache's size (then the caller resolves the
// path below the scratch directory). Under ix.m.
int cached_parent(const Slot& s, SlotIndex& ix, const std::string& name) {
  std::size_t slash = name.rfind('/');
  if (slash == std::string::npos) return s.dirfd;
  std::string dir = name.substr(0, slash);
  auto it = ix.dirs.find(dir);
  if (it != ix.dirs.end()) return it->second;
  if (ix.dirs.size() >= kMaxDirFds) return -1;
  int fd = open_below(s.dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd >= 0) ix.dirs.emplace(dir, fd);
  return fd;
}

// A cached parent that was removed and made again (by the creator of a joined directory)
// is stale: forget it, so that the caller's retry resolves the path afresh.
bool drop_if_stale(int slot, const std::string& name, int parent) {
  if (parent == g_slots[slot].dirfd) return false;
  struct stat st {};
  if (::fstat(parent, &st) != 0 || st.st_nlink != 0) return false;
  SlotIndex& ix = g_index[slot];
  std::lock_guard<std::mutex> lock(ix.m);
  auto it = ix.dirs.find(name.substr(0, name.rfind('/')));
  if (it == ix.dirs.end() || it->second != parent) return false;
  ::close(parent);
  ix.dirs.erase(it);
  return true;
}

const char* base_of(const std::string& name) {
  std::size_t slash = name.rfind('/');
  return name.c_str() + (slash == std::string::npos ? 0 : slash + 1);
}

// Reserves an entry for `name` (kind kPending: never removed by the cleanup) and finds its
// parent's descriptor; inside a Critical section. Returns the index or an error message.
core::Expected<std::size_t> reserve(int slot, const std::string& name, int* parent) {
  Slot& s = g_slots[slot];
  SlotIndex& ix = g_index[slot];
  std::lock_guard<std::mutex> lock(ix.m);
  *parent = cached_parent(s, ix, name);
  std::size_t i;
  if (!ix.free.empty()) {
    i = ix.free.back();
    ix.free.pop_back();
  } else {
    i = s.used.load();
    if (i >= kChunkEntries * kMaxChunks)
      return core::make_error("EMFILE: more than 1048576 files and directories recorded in one scratch directory "
                              "(remove some first): refusing to create '" + name + "'");
    auto& chunk = s.chunks[i / kChunkEntries];
    if (!chunk.load()) chunk.store(new Entry[kChunkEntries], std::memory_order_release);
  }
  Entry* e = entry_at(s, i);
  std::memcpy(e->name, name.c_str(), name.size() + 1);
  e->kind.store(kPending, std::memory_order_release);
  if (i >= s.used.load()) s.used.store(i + 1, std::memory_order_release);
  return i;
}

void settle(int slot, std::size_t i, const std::string& name, unsigned char kind) {
  SlotIndex& ix = g_index[slot];
  std::lock_guard<std::mutex> lock(ix.m);
  entry_at(g_slots[slot], i)->kind.store(kind, std::memory_order_release);
  if (kind == kEmpty) {
    ix.free.push_back(i);
    ix.names.erase(name);
  } else {
    ix.names[name] = i;
  }
}

}  // namespace

core::Expected<int> Scratch::create_file(const std::string& name, int extra_flags) {
  if (auto bad = check_name(name); !bad.empty()) return core::make_error(bad + " in " + path_);
  Critical critical;
  if (critical.refused) return core::make_error(kRefused);
  int parent;
  auto i = reserve(slot_, name, &parent);
  if (!i) return core::make_error(i.error());
  const int flags = O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | extra_flags;
  int fd = parent >= 0 ? ::openat(parent, base_of(name), flags, 0600) : -1;
  if (parent < 0 || (fd < 0 && errno == ENOENT && drop_if_stale(slot_, name, parent)))
    fd = open_below(dirfd_, name, flags, 0600);
  int err = errno;
  settle(slot_, *i, name, fd >= 0 ? kFile : kEmpty);
  if (fd < 0) {
    if (vanished(dirfd_))
      return core::make_error(io_error(ENOENT, "creating " + path_ + "/" + name + ": the scratch directory " + path_ +
                                                   " vanished"));
    return core::make_error(io_error(err, "creating " + path_ + "/" + name));
  }
  return fd;
}

core::Expected<int> Scratch::open_file(const std::string& name, int flags) const {
  if (auto bad = check_name(name); !bad.empty()) return core::make_error(bad + " in " + path_);
  if (flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY)))
    return core::make_error("EINVAL: open_file never creates (use create_file): " + path_ + "/" + name);
  int fd = open_below(dirfd_, name, (flags & ~O_CREAT) | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    if (vanished(dirfd_))
      return core::make_error(io_error(ENOENT, "opening " + path_ + "/" + name + ": the scratch directory " + path_ +
                                                   " vanished"));
    return core::make_error(io_error(err, "opening " + path_ + "/" + name));
  }
  return fd;
}

core::Expected<void> Scratch::make_dir(const std::string& name) {
  if (auto bad = check_name(name); !bad.empty()) return core::make_error(bad + " in " + path_);
  Critical critical;
  if (critical.refused) return core::make_error(kRefused);
  int cached;
  auto i = reserve(slot_, name, &cached);
  if (!i) return core::make_error(i.error());
  char base[kMaxName + 1];
  int parent = cached >= 0 ? cached : open_parent(dirfd_, name.c_str(), base);
  const char* leaf = cached >= 0 ? base_of(name) : base;
  int rc = parent < 0 ? -1 : ::mkdirat(parent, leaf, 0700);
  int err = parent < 0 ? -parent : errno;
  int own = rc == 0 ? ::openat(parent, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (parent >= 0 && parent != dirfd_ && parent != cached) ::close(parent);
  settle(slot_, *i, name, rc == 0 ? kDir : kEmpty);
  if (own >= 0) {
    SlotIndex& ix = g_index[slot_];
    std::lock_guard<std::mutex> lock(ix.m);
    if (ix.dirs.size() < kMaxDirFds && ix.dirs.emplace(name, own).second) own = -1;
  }
  if (own >= 0) ::close(own);
  if (rc != 0) {
    if (vanished(dirfd_))
      return core::make_error(io_error(ENOENT, "creating the directory " + path_ + "/" + name +
                                                   ": the scratch directory " + path_ + " vanished"));
    return core::make_error(io_error(err, "creating the directory " + path_ + "/" + name));
  }
  return {};
}

core::Expected<void> Scratch::remove_file(const std::string& name) {
  Critical critical;
  std::size_t i;
  int parent;
  {
    SlotIndex& ix = g_index[slot_];
    std::lock_guard<std::mutex> lock(ix.m);
    auto it = ix.names.find(name);
    if (it == ix.names.end() || entry_at(g_slots[slot_], it->second)->kind.load() != kFile)
      return core::make_error("EINVAL: " + path_ + "/" + name + " is not a file this process created there");
    i = it->second;
    parent = cached_parent(g_slots[slot_], ix, name);
  }
  int err = parent >= 0 ? (::unlinkat(parent, base_of(name), 0) == 0 ? 0 : errno) : -1;
  if (parent < 0 || (err == ENOENT && drop_if_stale(slot_, name, parent))) err = unlink_below(dirfd_, name.c_str(), 0);
  if (err == 0 || err == ENOENT) settle(slot_, i, name, kEmpty);
  if (err == 0) return {};
  if (vanished(dirfd_))
    return core::make_error(io_error(ENOENT, "removing " + path_ + "/" + name + ": the scratch directory " + path_ +
                                                 " vanished"));
  return core::make_error(io_error(err, "removing " + path_ + "/" + name));
}

core::Expected<void> Scratch::clean() {
  Critical critical;
  Slot& s = g_slots[slot_];
  SlotIndex& ix = g_index[slot_];
  std::lock_guard<std::mutex> lock(ix.m);
  int err = remove_entries(s);
  // Forget what is gone; an emptied table starts again from its first entry.
  ix.free.clear();
  for (auto it = ix.names.begin(); it != ix.names.end();) {
    if (entry_at(s, it->second)->kind.load() == kEmpty) {
      it = ix.names.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = ix.dirs.begin(); it != ix.dirs.end();) {
    if (ix.names.count(it->first) == 0) {
      ::close(it->second);
      it = ix.dirs.erase(it);
    } else {
      ++it;
    }
  }
  if (ix.names.empty()) {
    s.used.store(0);
  } else {
    for (std::size_t i = 0; i < s.used.load(); ++i)
      if (entry_at(s, i)->kind.load() == kEmpty) ix.free.push_back(i);
  }
  if (err == 0) return {};
  if (vanished(dirfd_))
    return core::make_error(io_error(ENOENT, "cleaning " + path_ + ": the scratch directory " + path_ + " vanished"));
  return core::make_error(io_error(err, "cleaning " + path_ + " (" + std::to_string(ix.names.size()) +
                                            " names left)"));
}

}  // namespace converge::io
