// The IO benchmarks' small utilities (scratch.hpp): named errno texts, space and filesystem of a
// path, whole-buffer pread/pwrite, and the data pattern every IO benchmark writes and checks.
#include "io/scratch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/units.hpp"

namespace converge::io {

std::string errno_name(int err) {
  switch (err) {
#define CONVERGE_ERRNO(e) \
  case e:                 \
    return #e;
    CONVERGE_ERRNO(ENOSPC) CONVERGE_ERRNO(EDQUOT) CONVERGE_ERRNO(EACCES) CONVERGE_ERRNO(EPERM)
    CONVERGE_ERRNO(EROFS) CONVERGE_ERRNO(ENOENT) CONVERGE_ERRNO(ENOTDIR) CONVERGE_ERRNO(EEXIST)
    CONVERGE_ERRNO(ELOOP) CONVERGE_ERRNO(EIO) CONVERGE_ERRNO(EINVAL) CONVERGE_ERRNO(EFBIG)
    CONVERGE_ERRNO(EMFILE) CONVERGE_ERRNO(ENFILE) CONVERGE_ERRNO(ENAMETOOLONG) CONVERGE_ERRNO(EBADF)
    CONVERGE_ERRNO(EISDIR) CONVERGE_ERRNO(ESTALE) CONVERGE_ERRNO(ENOTEMPTY) CONVERGE_ERRNO(EXDEV)
    CONVERGE_ERRNO(EBUSY) CONVERGE_ERRNO(ETXTBSY) CONVERGE_ERRNO(EAGAIN) CONVERGE_ERRNO(EINTR)
    CONVERGE_ERRNO(ENOMEM) CONVERGE_ERRNO(ENOSYS) CONVERGE_ERRNO(EOPNOTSUPP) CONVERGE_ERRNO(EOVERFLOW)
    CONVERGE_ERRNO(ENODEV) CONVERGE_ERRNO(ENXIO) CONVERGE_ERRNO(ESPIPE) CONVERGE_ERRNO(ETIMEDOUT)
    CONVERGE_ERRNO(ENOTCONN) CONVERGE_ERRNO(ESRCH) CONVERGE_ERRNO(ECANCELED)
#undef CONVERGE_ERRNO
    default:
      return "errno " + std::to_string(err);
  }
}

std::string io_error(int err, const std::string& what) {
  return errno_name(err) + ": " + std::strerror(err) + ": " + what;
}

core::Expected<SpaceInfo> space_of(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return core::make_error(io_error(errno, "statvfs " + path));
  return SpaceInfo{std::uint64_t(s.f_bavail) * s.f_frsize, std::uint64_t(s.f_blocks) * s.f_frsize,
                   std::uint64_t(s.f_favail)};
}

namespace {

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit((unsigned char)s[i + 1])) {
      out += char(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool under_mount(const std::string& path, const std::string& mount) {
  if (mount == "/") return true;
  return path.compare(0, mount.size(), mount) == 0 && (path.size() == mount.size() || path[mount.size()] == '/');
}

}  // namespace

FilesystemInfo filesystem_of(const std::string& path) {
  std::string real = path;
  if (char* r = ::realpath(path.c_str(), nullptr)) {
    real = r;
    std::free(r);
  }
  FilesystemInfo best;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - type source super-options
    std::istringstream ls(line);
    std::string id, parent, dev, root, mount, options, field;
    if (!(ls >> id >> parent >> dev >> root >> mount >> options)) continue;
    while (ls >> field && field != "-") {
    }
    std::string type, source, super;
    ls >> type >> source >> super;
    mount = unescape_mountinfo(mount);
    // Later lines mount over earlier ones: ">=" keeps the last of equal length.
    if (!under_mount(real, mount) || mount.size() < best.mount_point.size()) continue;
    best.type = type;
    best.mount_point = mount;
    best.source = unescape_mountinfo(source);
    best.options = options;
    std::istringstream ss(super);
    for (std::string opt; std::getline(ss, opt, ',');)
      if (("," + best.options + ",").find("," + opt + ",") == std::string::npos) best.options += "," + opt;
  }
  return best;
}

// ---- data transfer and the pattern -------------------------------------------------------

core::Expected<void> write_all(int fd, const void* data, std::size_t bytes, off_t offset, const std::string& what) {
  auto p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::pwrite(fd, p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return core::make_error(io_error(n < 0 ? errno : EIO, what + " at offset " + std::to_string(offset)));
    p += n;
    bytes -= std::size_t(n);
    offset += n;
  }
  return {};
}

core::Expected<void> read_all(int fd, void* data, std::size_t bytes, off_t offset, const std::string& what) {
  auto p = static_cast<char*>(data);
  while (bytes > 0) {
    ssize_t n = ::pread(fd, p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::make_error(io_error(errno, what + " at offset " + std::to_string(offset)));
    if (n == 0)
      return core::make_error("short read: end of file at offset " + std::to_string(offset) + ", " +
                              std::to_string(bytes) + " bytes missing: " + what);
    p += n;
    bytes -= std::size_t(n);
    offset += n;
  }
  return {};
}

namespace {

static_assert(std::endian::native == std::endian::little, "the pattern's bytes are laid out little-endian");

inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t file_id, std::uint64_t w) {
  std::uint64_t x = (seed ^ file_id * 0x9E3779B97F4A7C15ull ^ w) + 0x9E3779B97F4A7C15ull;  // splitmix64
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Byte `offset` of the file: byte (offset % 8) of word (offset / 8), little-endian, so that
// any range, aligned or not, reads the same bytes.
inline unsigned char pattern_byte(std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset) {
  return static_cast<unsigned char>(pattern_word(seed, file_id, offset / 8) >> (8 * (offset % 8)));
}

}  // namespace

void fill_pattern(void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset) {
  auto out = static_cast<unsigned char*>(buffer);
  std::size_t i = 0;
  for (; i < bytes && (offset + i) % 8 != 0; ++i) out[i] = pattern_byte(seed, file_id, offset + i);
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w = pattern_word(seed, file_id, (offset + i) / 8);
    std::memcpy(out + i, &w, 8);
  }
  for (; i < bytes; ++i) out[i] = pattern_byte(seed, file_id, offset + i);
}

std::int64_t check_pattern(const void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id,
                           std::uint64_t offset) {
  auto in = static_cast<const unsigned char*>(buffer);
  std::size_t i = 0;
  for (; i < bytes && (offset + i) % 8 != 0; ++i)
    if (in[i] != pattern_byte(seed, file_id, offset + i)) return std::int64_t(i);
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, in + i, 8);
    if (std::uint64_t diff = w ^ pattern_word(seed, file_id, (offset + i) / 8))
      return std::int64_t(i) + __builtin_ctzll(diff) / 8;
  }
  for (; i < bytes; ++i)
    if (in[i] != pattern_byte(seed, file_id, offset + i)) return std::int64_t(i);
  return -1;
}

}  // namespace converge::io
