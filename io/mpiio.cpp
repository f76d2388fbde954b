// The MPI-IO backend of io.mpiio.{write,read} (IOR -a MPIIO): the timed region's calls are
// MPI_File_open (MPI_COMM_SELF for a file per process, MPI_COMM_WORLD for the shared file; the
// file exists: the Scratch created it exclusively, so MPI-IO never creates a name), one
// MPI_File_write_at / read_at per transfer at the layout's explicit offset (or the collective
// _all forms, IOR -c), MPI_File_sync when the write syncs (IOR -e), MPI_File_close. Hints come
// from the `hints` parameter; the ones in effect (MPI_File_get_info) go to the notes.
// Collective calls stay matched on every rank whatever fails: after an error a rank goes on
// with empty calls, and every rank closes.
#include <mpi.h>

#include <cerrno>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "core/mpi/mpi_group.hpp"
#include "core/units.hpp"
#include "io/bw_common.hpp"

namespace converge::io::bw {
namespace {

// "ENOSPC: No space left on device (MPI_ERR_NO_SPACE): writing ... at offset N": the errno name
// of the error classes a filesystem gives, as the POSIX backend names them.
std::string mpi_io_error(int code, const std::string& what) {
  int cls = 0, len = 0;
  MPI_Error_class(code, &cls);
  char text[MPI_MAX_ERROR_STRING] = {};
  MPI_Error_string(code, text, &len);
  struct Named { int cls; int err; const char* name; };
  static const Named named[] = {
      {MPI_ERR_NO_SPACE, ENOSPC, "MPI_ERR_NO_SPACE"},     {MPI_ERR_QUOTA, EDQUOT, "MPI_ERR_QUOTA"},
      {MPI_ERR_ACCESS, EACCES, "MPI_ERR_ACCESS"},         {MPI_ERR_READ_ONLY, EROFS, "MPI_ERR_READ_ONLY"},
      {MPI_ERR_NO_SUCH_FILE, ENOENT, "MPI_ERR_NO_SUCH_FILE"}, {MPI_ERR_FILE_EXISTS, EEXIST, "MPI_ERR_FILE_EXISTS"},
      {MPI_ERR_IO, EIO, "MPI_ERR_IO"},
  };
  for (const auto& n : named)
    if (n.cls == cls) return fmt::format("{}: {} ({}): {}", errno_name(n.err), text, n.name, what);
  return fmt::format("MPI-IO error class {}: {}: {}", cls, text, what);
}

// A write that returned fewer bytes than asked without an error: Open MPI's OMPIO reports a
// write the filesystem refused for lack of space that way. The space left on the tier, measured
// now, names the cause when it cannot hold the rest; otherwise the short count is the error.
std::string short_write(int done, int count, const std::string& path, std::uint64_t at) {
  const auto space = space_of(path);
  if (space && space->available_bytes < std::uint64_t(count - done))
    return fmt::format("ENOSPC: No space left on device (the MPI library wrote {} of {} bytes without an error; {} B "
                       "are available on the tier now): writing {} at offset {}",
                       done, count, space->available_bytes, path, at);
  return fmt::format("short write: {} of {} bytes without an error: writing {} at offset {}", done, count, path, at);
}

// "key=value,key=value" as an MPI_Info (MPI_INFO_NULL when empty). Throws on a malformed list.
MPI_Info make_info(const std::string& hints) {
  if (hints.empty()) return MPI_INFO_NULL;
  MPI_Info info;
  MPI_Info_create(&info);
  std::stringstream in(hints);
  for (std::string item; std::getline(in, item, ',');) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      MPI_Info_free(&info);
      throw std::invalid_argument("hints: '" + item + "' is not key=value (hints=key=value[,key=value...])");
    }
    MPI_Info_set(info, item.substr(0, eq).c_str(), item.substr(eq + 1).c_str());
  }
  return info;
}

// The hints an open file has in effect, "key=value, ..." (sorted as the library lists them).
std::string effective_hints(MPI_File fh) {
  MPI_Info info;
  if (MPI_File_get_info(fh, &info) != MPI_SUCCESS) return "(MPI_File_get_info failed)";
  int n = 0;
  MPI_Info_get_nkeys(info, &n);
  std::string out;
  for (int i = 0; i < n; ++i) {
    char key[MPI_MAX_INFO_KEY + 1] = {};
    MPI_Info_get_nthkey(info, i, key);
    int len = 0, flag = 0;
    MPI_Info_get_valuelen(info, key, &len, &flag);
    std::string value(std::size_t(len) + 1, '\0');
    MPI_Info_get(info, key, len + 1, value.data(), &flag);
    value.resize(std::size_t(len));
    out += fmt::format("{}{}={}", out.empty() ? "" : ", ", key, value);
  }
  MPI_Info_free(&info);
  return out.empty() ? "(none reported)" : out;
}

// One open file, closed (collectively, on its communicator) by the destructor.
struct OpenFile {
  MPI_File fh = MPI_FILE_NULL;
  ~OpenFile() {
    if (fh != MPI_FILE_NULL) MPI_File_close(&fh);
  }
};

// Opens `name` on the layout's communicator. With the shared file, every rank learns whether
// any rank failed (one MPI_Allreduce), so that no rank goes on to a collective call alone; a
// rank whose open failed while another's succeeded leaves that handle unclosed rather than
// hang in MPI_File_close.
std::string open_file(const std::string& path, bool shared, int amode, const std::string& hints, OpenFile& f) {
  const MPI_Comm comm = shared ? MPI_COMM_WORLD : MPI_COMM_SELF;
  MPI_Info info = make_info(hints);
  const int rc = MPI_File_open(comm, path.c_str(), amode, info, &f.fh);
  if (info != MPI_INFO_NULL) MPI_Info_free(&info);
  std::string err = rc == MPI_SUCCESS ? "" : mpi_io_error(rc, "MPI_File_open " + path);
  if (!shared) return err;
  int mine = rc == MPI_SUCCESS ? 0 : 1, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any != 0 && err.empty()) {
    f.fh = MPI_FILE_NULL;  // left open: closing is collective, and a rank has no handle
    return "MPI_File_open " + path + ": failed on another rank";
  }
  return err;
}

}  // namespace

std::string BandwidthBenchmark::mpiio_setup() {
  MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);  // the default for files, made sure
  const bool shared = g_.layout != Layout::fpp && group_ != nullptr;
  const std::string path = scratch_->path() + "/" + file_name(g_.layout, rank_);
  std::string err;
  {
    OpenFile f;
    try {
      err = open_file(path, shared, MPI_MODE_WRONLY, hints_, f);
    } catch (const std::invalid_argument& e) {
      err = e.what();  // the same text on every rank: each parses the same parameter
    }
    if (err.empty()) notes_["mpiio_hints"] = effective_hints(f.fh);
  }
  char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(version, &len);
  std::string library(version, std::size_t(len));
  library = library.substr(0, library.find_first_of(",\n"));
  notes_["backend"] = fmt::format(
      "MPI-IO ({}): explicit offsets, {} I/O{}; files created by the Scratch (POSIX, exclusive) and opened without "
      "MPI_MODE_CREATE",
      library, collective_ ? "collective (MPI_File_write_at_all / read_at_all)" : "independent (MPI_File_write_at / read_at)",
      hints_.empty() ? "" : fmt::format("; hints given: {}", hints_));
  return err;
}

std::string BandwidthBenchmark::mpiio_write_block(bool sync) {
  const bool shared = g_.layout != Layout::fpp && group_ != nullptr;
  const std::string path = scratch_->path() + "/" + file_name(g_.layout, rank_);
  OpenFile f;
  std::string err = open_file(path, shared, MPI_MODE_WRONLY, hints_, f);
  if (f.fh == MPI_FILE_NULL) return err;
  const std::uint64_t id = file_id(g_.layout, rank_);
  for (std::uint64_t t = 0; t < transfers_per_rank(g_); ++t) {
    if (!err.empty() && !collective_) break;
    const std::uint64_t at = transfer_offset(g_, rank_, t);
    const unsigned char* data = err.empty() ? pattern_for(id, at) : pbuf_->data();
    const int count = err.empty() ? int(g_.transfer) : 0;  // after an error: empty, to match the collective
    MPI_Status st;
    const int rc = collective_ ? MPI_File_write_at_all(f.fh, MPI_Offset(at), data, count, MPI_BYTE, &st)
                               : MPI_File_write_at(f.fh, MPI_Offset(at), data, count, MPI_BYTE, &st);
    int done = count;
    if (rc == MPI_SUCCESS) MPI_Get_count(&st, MPI_BYTE, &done);
    if (!err.empty()) continue;
    if (rc != MPI_SUCCESS) err = mpi_io_error(rc, fmt::format("writing {} at offset {}", path, at));
    else if (done != count) err = short_write(done, count, path, at);
  }
  if (sync) {  // collective over the file's communicator: every rank calls it
    const int rc = MPI_File_sync(f.fh);
    if (rc != MPI_SUCCESS && err.empty()) err = mpi_io_error(rc, "MPI_File_sync " + path);
  }
  const int rc = MPI_File_close(&f.fh);
  if (rc != MPI_SUCCESS && err.empty()) err = mpi_io_error(rc, "MPI_File_close " + path);
  return err;
}

std::string BandwidthBenchmark::mpiio_read_block(int source) {
  const bool shared = g_.layout != Layout::fpp && group_ != nullptr;
  const std::string path = scratch_->path() + "/" + file_name(g_.layout, source);
  OpenFile f;
  std::string err = open_file(path, shared, MPI_MODE_RDONLY, hints_, f);
  if (f.fh == MPI_FILE_NULL) return err;
  for (std::uint64_t t = 0; t < transfers_per_rank(g_); ++t) {
    if (!err.empty() && !collective_) break;
    const std::uint64_t at = transfer_offset(g_, source, t);
    const int count = err.empty() ? int(g_.transfer) : 0;
    MPI_Status st;
    const int rc = collective_ ? MPI_File_read_at_all(f.fh, MPI_Offset(at), tbuf_->data(), count, MPI_BYTE, &st)
                               : MPI_File_read_at(f.fh, MPI_Offset(at), tbuf_->data(), count, MPI_BYTE, &st);
    int done = count;
    if (rc == MPI_SUCCESS) MPI_Get_count(&st, MPI_BYTE, &done);
    if (!err.empty()) continue;
    if (rc != MPI_SUCCESS) err = mpi_io_error(rc, fmt::format("reading {} at offset {}", path, at));
    else if (done != count)
      err = fmt::format("short read: {} of {} bytes: reading {} at offset {}", done, count, path, at);
  }
  const int rc = MPI_File_close(&f.fh);
  if (rc != MPI_SUCCESS && err.empty()) err = mpi_io_error(rc, "MPI_File_close " + path);
  return err;
}

}  // namespace converge::io::bw
