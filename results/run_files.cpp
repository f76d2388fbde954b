// Run documents on disk: written atomically (temporary file, fsync, rename, fsync of the
// directory), so a reader sees the old document or the new one, never part of one; and the
// run id. Reading and the JSON form are in run_document.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "results/run_document.hpp"

namespace converge::results {
namespace {

namespace fs = std::filesystem;
using core::make_error;

// ---- files ---------------------------------------------------------------------------------

std::string errno_text(int err) { return std::strerror(err); }

/// Writes all of `text`, retrying short writes and EINTR; returns 0 or an errno value.
int write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

/// fsync of a directory, so that a rename inside it survives a crash.
int sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

}  // namespace

core::Expected<void> write_file_atomic(const std::string& path, const std::string& text) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const auto fail = [&](const std::string& step, const std::string& why) {
    return make_error("cannot write " + path + ": " + step + ": " + why);
  };

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("creating directory " + dir.string(), ec.message());

  std::string tmp = (dir / fmt::format(".{}.tmpXXXXXX", target.filename().string())).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fail("creating a temporary file in " + dir.string(), errno_text(errno));

  // Each step runs only if the ones before succeeded; the first failure is reported and the
  // temporary file removed, so a failed write leaves the directory as it was.
  const auto sys = [](int rc) { return rc == 0 ? 0 : errno; };
  std::string step;
  int err = 0;
  // mkstemp creates 0600; results are meant to be read by others sharing the directory.
  if ((err = sys(::fchmod(fd, 0644)))) step = "chmod " + tmp;
  else if ((err = write_all(fd, text))) step = "writing " + tmp;
  else if ((err = sys(::fsync(fd)))) step = "fsync " + tmp;
  if (::close(fd) != 0 && err == 0) {
    err = errno;
    step = "closing " + tmp;
  }
  if (err == 0 && (err = sys(::rename(tmp.c_str(), path.c_str())))) step = "renaming " + tmp;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return fail(step, errno_text(err));
  }
  if ((err = sync_directory(dir)))
    return fail("fsync of directory " + dir.string(), errno_text(err));
  return {};
}

core::Expected<void> write_json_atomic(const std::string& path, const json& j) {
  // Replace, not throw, on invalid UTF-8 (strings read from /proc or the environment).
  return write_file_atomic(path, j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

std::string make_run_id() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", std::random_device{}() & 0xffffffu);
  return std::string(stamp) + "-" + suffix;
}

}  // namespace converge::results
