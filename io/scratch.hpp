#pragma once
// The IO benchmarks' safety layer (DESIGN.md, Errors: IO rules). Every byte an IO benchmark
// writes goes into a Scratch: a fresh directory it creates under the tier's path, after
// checking that the data fits with a margin. Inside it, files and subdirectories are created
// exclusively and opened without following symbolic links, relative to the directory's file
// descriptor, so nothing outside it is ever touched; everything created is recorded and
// removed when the Scratch is destroyed, when the process gets SIGINT, SIGTERM or SIGHUP
// (Slurm's time limit sends SIGTERM), and at exit. Errors are named: ENOSPC, EDQUOT, EACCES,
// EROFS and a vanished directory each give "<NAME>: <strerror>: <what was being done>".
//
// Signals: the first create() or join() installs handlers for SIGINT, SIGTERM and SIGHUP (one
// that is ignored, as SIGHUP under nohup, stays ignored). The handler removes what every live
// Scratch of this process recorded, with async-signal-safe calls only, then gives the signal
// to what was there before: the default action (the process dies "killed by SIGINT") or the
// earlier handler (install yours before the first Scratch to keep it). A signal arriving
// while a file is being created or removed is handled as soon as that call returns, so a
// file is never left unrecorded. After such a signal, creating is refused (ECANCELED).
// Limits, beyond which calls refuse with a message rather than risk leaving files: 64 live
// Scratch objects per process, 1,048,576 recorded names per Scratch, 255 bytes per name.
// Threads may create, open and remove files of one Scratch at once; clean() and the
// destructor must not overlap other calls on the same Scratch. After fork(), a child never
// removes its parent's files (cleanup is limited to the process that created them).
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/filesystem.hpp"

namespace converge::io {

// Named errno texts, and the space and filesystem of a path, live in core (the inventory
// describes storage tiers too); io code keeps using them by their io names.
using core::errno_name;
using core::FilesystemInfo;
using core::filesystem_of;
using core::io_error;
using core::space_of;
using core::SpaceInfo;

class Scratch {
 public:
  /// Creates "<tier>/converge-io-<host>-<pid>-<random>" (mode 0700; the tier must exist and be
  /// a directory, reached without following a symbolic link in its last component). Refuses,
  /// with a message naming both figures, when `bytes_needed` x (1 + margin) exceeds the space
  /// available, or when `inodes_needed` exceeds the free inodes. Errors are io_error() texts.
  static core::Expected<std::unique_ptr<Scratch>> create(const std::string& tier, std::uint64_t bytes_needed,
                                                         std::uint64_t inodes_needed = 16, double margin = 0.1);
  /// Adopts a directory another rank created (shared-file and shared-directory modes): opens
  /// it without following links and removes only what THIS process creates in it; the
  /// creator removes the directory itself (and, on a signal, a joined process removes it too
  /// if it is empty by then: the creator may have died first).
  static core::Expected<std::unique_ptr<Scratch>> join(const std::string& directory);
  ~Scratch();  ///< removes every file and directory this process created in it, deepest first
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& path() const { return path_; }
  int dirfd() const { return dirfd_; }
  bool owner() const { return owner_; }

  /// Creates a file (relative name, may contain '/' below directories made with make_dir):
  /// openat(O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | extra_flags, 0600), recorded for removal.
  /// extra_flags: O_WRONLY or O_RDWR, O_DIRECT, ... Returns the descriptor (the caller closes it).
  /// No symbolic link is followed anywhere in the name; an existing name (even a link someone
  /// planted) gives EEXIST and is left alone. Names: components joined by single '/', none
  /// empty, "." or "..", at most 255 bytes in all (else EINVAL / ENAMETOOLONG).
  core::Expected<int> create_file(const std::string& name, int extra_flags);
  /// Opens a file of this Scratch (one this process or the creator of a joined directory made),
  /// with O_NOFOLLOW | O_CLOEXEC | flags; never creates (O_CREAT is refused). A link: ELOOP.
  core::Expected<int> open_file(const std::string& name, int flags) const;
  /// mkdirat(0700), recorded for removal. Up to 256 directories per Scratch (made here, or
  /// first met as the parent of a name) keep a descriptor open, so that names below them are
  /// created and removed in one call, as fast as openat/unlinkat alone (metadata rates).
  core::Expected<void> make_dir(const std::string& name);
  /// Removes one file this process created, now (metadata "remove" phase); forgets it. Any
  /// other name is refused (EINVAL), never unlinked.
  core::Expected<void> remove_file(const std::string& name);
  /// Removes everything this process created, now (as the destructor does); may be called
  /// again after new files are created. Returns the first error, if any.
  core::Expected<void> clean();

 private:
  Scratch() = default;
  std::string path_;
  int dirfd_ = -1;
  bool owner_ = false;
  int slot_ = -1;  ///< this Scratch's entry in the signal-time cleanup table
};

/// Full write/read of a buffer at an offset, retrying short transfers and EINTR. Errors are
/// io_error() texts naming `what` and the offset: "ENOSPC: No space left on device: <what> at
/// offset N". read_all at end of file: "short read: end of file at offset N, M bytes missing:
/// <what>".
core::Expected<void> write_all(int fd, const void* data, std::size_t bytes, off_t offset, const std::string& what);
core::Expected<void> read_all(int fd, void* data, std::size_t bytes, off_t offset, const std::string& what);

/// The data pattern every IO benchmark writes and checks, in 8-byte little-endian words (byte
/// b of a file is byte b % 8 of the word at b - b % 8), like fio's buffers with its
/// scramble_buffers stamps: the word at the start of every 512-byte sector of the file is a
/// stamp, key(seed, file) ^ offset, so a sector from elsewhere (another offset, file or seed)
/// never matches; every other word is splitmix64(seed ^ file_id * 0x9E3779B97F4A7C15 ^
/// (offset % period) / 8), random within a period (incompressible) and the same in every
/// period, so a buffer filled once serves every transfer that starts at a multiple of the
/// period once stamp_pattern() has rewritten its stamps (2 words per KiB). `period`: a positive
/// multiple of 512 (else std::invalid_argument); writer and checker must use the same. Any
/// `offset` and `bytes` give the same bytes; multiples of 8 take the word-at-a-time path.
constexpr std::uint64_t kPatternSector = 512;
constexpr std::uint64_t kPatternPeriod = std::uint64_t(1) << 20;
void fill_pattern(void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset,
                  std::uint64_t period = kPatternPeriod);
/// Rewrites only the sector stamps of [offset, offset + bytes): turns a buffer holding the
/// pattern of another range that starts at the same offset modulo the period (and 512) into
/// this range's pattern.
void stamp_pattern(void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset);
/// The first byte (relative to `offset`) where `buffer` differs from the pattern, or -1: a
/// word overwritten whole gives its first byte's offset.
std::int64_t check_pattern(const void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id,
                           std::uint64_t offset, std::uint64_t period = kPatternPeriod);

}  // namespace converge::io
