// The filesystem and space of a directory (core/filesystem.hpp), and named errno texts.
#include "core/filesystem.hpp"

#include <sys/statvfs.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace converge::core {

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

Expected<SpaceInfo> space_of(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return make_error(io_error(errno, "statvfs " + path));
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

// realpath(3) as a string; nullopt with errno set when it fails.
std::optional<std::string> real_path_of(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (r == nullptr) return std::nullopt;
  std::string out(r);
  std::free(r);
  return out;
}

}  // namespace

FilesystemInfo filesystem_in_mountinfo(const std::string& real_path, std::istream& in) {
  FilesystemInfo best;
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
    if (!under_mount(real_path, mount) || mount.size() < best.mount_point.size()) continue;
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

FilesystemInfo filesystem_of(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  return filesystem_in_mountinfo(real_path_of(path).value_or(path), in);
}

std::string io_directory(const std::string& given, const char* converge_io_dir, const char* tmpdir) {
  if (given != "auto" && !given.empty()) return given;
  if (converge_io_dir != nullptr && *converge_io_dir != '\0') return converge_io_dir;
  if (tmpdir != nullptr && *tmpdir != '\0') return tmpdir;
  return "/tmp";
}

StorageInventory describe_storage(const std::string& tier, const std::string& path) {
  StorageInventory s;
  s.tier = tier;
  s.path = path;
  const std::string dir = io_directory(path, std::getenv("CONVERGE_IO_DIR"), std::getenv("TMPDIR"));
  const auto real = real_path_of(dir);
  if (!real) {
    s.error = io_error(errno, "resolving the tier path " + dir);
    return s;
  }
  const auto space = space_of(*real);
  if (!space) {
    s.error = space.error();
    return s;
  }
  const FilesystemInfo fs = filesystem_of(*real);
  if (fs.mount_point.empty()) {
    s.error = "no mount in /proc/self/mountinfo holds " + *real;
    return s;
  }
  s.real_path = *real;
  s.type = fs.type;
  s.mount_point = fs.mount_point;
  s.source = fs.source;
  s.options = fs.options;
  s.total_bytes = space->total_bytes;
  s.available_bytes = space->available_bytes;
  return s;
}

}  // namespace converge::core
