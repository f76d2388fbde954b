#pragma once
// What a directory lives on: the filesystem (type, mount point, source, options from
// /proc/self/mountinfo) and its space (statvfs). The IO benchmarks note it in every result;
// the worker records it in the inventory for each storage tier its io instances use
// (Inventory::storage). Also the named errno texts the IO code reports errors with.
#include <cstdint>
#include <istream>
#include <string>

#include "core/expected.hpp"
#include "core/inventory.hpp"

namespace converge::core {

/// "ENOSPC: No space left on device: writing /tier/converge-io-XXXX/f.0 at offset 1048576".
/// The symbolic name for errno values IO code meets (ENOSPC, EDQUOT, EACCES, EPERM, EROFS,
/// ENOENT, EIO, EINVAL, EFBIG, EMFILE, ENAMETOOLONG, ELOOP, ...), else "errno N".
std::string errno_name(int err);
std::string io_error(int err, const std::string& what);

/// Space on the filesystem holding `path` (statvfs), for the free-space check and notes.
struct SpaceInfo {
  std::uint64_t available_bytes = 0;  ///< f_bavail x f_frsize: what an unprivileged writer may use
  std::uint64_t total_bytes = 0;      ///< f_blocks x f_frsize
  std::uint64_t available_inodes = 0;
};
/// Errors are io_error() texts: "ENOENT: No such file or directory: statvfs /x".
Expected<SpaceInfo> space_of(const std::string& path);

/// The filesystem holding `path`, from /proc/self/mountinfo: type ("xfs", "lustre", "tmpfs"),
/// mount point, source and options (the mount's, then the superblock's not already there).
/// All empty when no mount holds the path (it does not exist, or mountinfo is unreadable).
struct FilesystemInfo {
  std::string type, mount_point, source, options;
};
FilesystemInfo filesystem_of(const std::string& path);
/// The same from a mountinfo text, for a path already resolved (absolute, no links): the
/// longest mount point holding it, the last of equal ones (a later mount hides an earlier).
FilesystemInfo filesystem_in_mountinfo(const std::string& real_path, std::istream& mountinfo);

/// The IO benchmarks' tier directory: `given`, or for "auto" (and "") $CONVERGE_IO_DIR if set
/// and not empty, else $TMPDIR, else /tmp (the environment's values are arguments here, null
/// when unset).
std::string io_directory(const std::string& given, const char* converge_io_dir, const char* tmpdir);

/// Describes the storage tier `path` (io_directory() of it, with this process's environment)
/// named `tier`: its real path, filesystem and space, or `error` saying why it cannot be
/// resolved (nothing else is filled in then; no figure is invented).
StorageInventory describe_storage(const std::string& tier, const std::string& path);

}  // namespace converge::core
