#pragma once
// What io.{posix,mpiio}.{write,read} share (IOR-style sequential bandwidth): the layouts'
// offset arithmetic, the read-back choice and rank mapping, the work model (pure functions,
// unit-tested in tests/io/bw_test.cpp), and a base class that owns the ranks, the Scratch and
// its files, moves the data with the POSIX or the MPI-IO backend (IOR -a POSIX / -a MPIIO),
// checks the pattern, drops and measures the page cache. Formulas and choices: io/README.md.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/benchmark.hpp"
#include "core/expected.hpp"
#include "core/huge_pages.hpp"
#include "core/params.hpp"
#include "io/scratch.hpp"

namespace converge::io::bw {

enum class Layout {
  fpp,               ///< file per process "f.<rank>", rank r's data at [0, block)
  shared_segmented,  ///< one file "shared", rank r owns [r*block, (r+1)*block)
  shared_strided,    ///< one file "shared", transfer t of rank r at (t*ranks + r)*transfer
};
Layout layout_from(const std::string& name);  ///< throws std::invalid_argument
const char* layout_name(Layout l);

/// How the data moves in the timed region: POSIX open/pwrite/pread/fsync/close, or MPI-IO
/// MPI_File_open/write_at(_all)/read_at(_all)/sync/close (io/mpiio.cpp). Files are created,
/// checked, dropped from the cache and removed through the Scratch (POSIX) with both.
enum class Backend { posix, mpiio };

/// How the read benchmark keeps the page cache from serving its reads.
enum class Readback {
  reorder,  ///< rank r reads what rank (r + ranks_per_node) % ranks wrote (IOR -C), plus fadvise
  fadvise,  ///< posix_fadvise(POSIX_FADV_DONTNEED) over what a rank reads, before each repetition
  direct,   ///< O_DIRECT reads
  none,     ///< nothing: reads may come from the page cache (flagged as cache_served)
};
Readback readback_from(const std::string& name);  ///< throws std::invalid_argument
const char* readback_name(Readback r);
/// "auto": reorder with more than one rank on more than one node, fadvise otherwise.
Readback auto_readback(int ranks, int nodes);

/// The shape of one instance: every rank moves `block` bytes in `block / transfer` calls.
struct Geometry {
  Layout layout = Layout::fpp;
  std::uint64_t transfer = 1 << 20;  ///< bytes per read/write call (IOR -t)
  std::uint64_t block = 64 << 20;    ///< bytes per rank (IOR -b), a multiple of transfer
  int ranks = 1;
};

/// "" when the geometry is usable, else why not: transfer a positive multiple of 8 (the
/// pattern's word), block a positive multiple of transfer, and with O_DIRECT transfer a multiple
/// of 4096 (buffers are 4096-aligned, so offsets and lengths must be too).
std::string check_geometry(std::uint64_t transfer, std::uint64_t block, bool direct);

std::uint64_t transfers_per_rank(const Geometry& g);
/// Bytes of one file: block (fpp), block x ranks (shared).
std::uint64_t file_size(const Geometry& g);
/// Total bytes the instance stores: block x ranks, whatever the layout.
std::uint64_t job_bytes(const Geometry& g);
/// "f.<writer>" (fpp) or "shared".
std::string file_name(Layout l, int writer);
/// The pattern's file id: the writer's rank for fpp, 0 for the shared file (whose words are
/// told apart by their offsets).
std::uint64_t file_id(Layout l, int writer);
/// Offset in its file of transfer t (0-based) of rank `writer`.
std::uint64_t transfer_offset(const Geometry& g, int writer, std::uint64_t t);

/// A byte range of a file.
struct Range {
  std::uint64_t offset = 0, length = 0;
  bool operator==(const Range&) const = default;
};
/// The bytes rank `writer` writes, contiguous transfers merged: one range for fpp and
/// segmented, one per transfer for strided (unless there is a single rank).
std::vector<Range> rank_ranges(const Geometry& g, int writer);

/// Reorder read-back (IOR -C): the rank whose data `reader` reads, (reader + ranks_per_node) %
/// ranks. With every rank on one node this is the reader itself.
int reorder_source(int reader, int ranks, int ranks_per_node);

/// Work per repetition: bytes = block x ranks; items = transfers (block / transfer x ranks).
core::WorkModel bw_work(const Geometry& g);

/// Bytes of `r` whose page is resident, given mincore()'s vector for the file from offset 0.
std::uint64_t resident_bytes(const std::vector<unsigned char>& pages, std::uint64_t page_size, const Range& r);

/// Parameters common to both benchmarks, in spec order; `read` adds readback, `write` fsync.
/// MPI-IO has no `direct` (nor readback=direct) and adds `collective` and `hints`.
std::vector<core::ParamSpec> bw_params(bool read, Backend backend = Backend::posix);
/// Metrics: "bandwidth" (B/s of bytes) and "ops" (1/s of items).
std::vector<core::MetricSpec> bw_metrics();

/// The base of io.posix.write and io.posix.read: setup's common part (parameters, ranks,
/// Scratch, files), the write and read loops, the check, cache control and cleanup.
class BandwidthBenchmark : public core::Benchmark {
 public:
  explicit BandwidthBenchmark(Backend backend) : backend_(backend) {}
  ~BandwidthBenchmark() override;
  core::WorkModel work() const override { return bw_work(g_); }
  std::map<std::string, std::string> notes() const override;
  void teardown() override;

 protected:
  /// Parameters, ranks, the Scratch (rank 0 creates, the others join), the files, and a test
  /// open with the flags the benchmark will use. A failure on any rank fails every rank's
  /// setup after a coordinated cleanup.
  core::SetupStatus open(core::ParamValues& params, const core::Context& ctx, bool read);

  /// Writes this rank's block in transfers at the layout's offsets, each from the pattern
  /// buffer (pattern_for), then fsync if `sync`, with the benchmark's backend. Returns "" or
  /// the named error. MPI-IO: collective on every rank (the shared file is opened on
  /// MPI_COMM_WORLD), so every rank must call it.
  std::string write_block(bool sync);
  /// The pattern buffer made the transfer at `at` of file `id`: its sector stamps rewritten
  /// (transfer a multiple of 512 bytes), else the whole pattern computed.
  const unsigned char* pattern_for(std::uint64_t id, std::uint64_t at);
  /// notes.buffer: how the timed calls use their buffer, and its pages.
  std::string buffer_text(bool write) const;
  /// Truncates the file(s) this rank owns to 0 bytes (fpp: its own; shared: rank 0 the shared
  /// file), so the next write allocates its blocks as a fresh file does (IOR and fio write new
  /// files; overwriting allocated blocks is faster on most filesystems). "" or the named error.
  std::string truncate_own();
  /// Reads `source`'s block in transfers into one transfer buffer, with the benchmark's
  /// backend. "" or the named error. MPI-IO: collective, as write_block.
  std::string read_block(int source, bool odirect);
  /// The timed region's calls, for the "timed" note: "open f.<rank> (O_WRONLY), 64 pwrite
  /// calls of 1 MiB, fsync, close" or the MPI-IO calls.
  std::string calls_text(bool write, int source, bool odirect) const;
  /// Re-reads `source`'s data after fsync and posix_fadvise(DONTNEED) (O_DIRECT if `odirect`)
  /// and compares every word with the pattern. Sets `mismatch` to the first bad word's place.
  std::string check_block(int source, bool odirect, std::string& mismatch);
  /// Drops `source`'s data from the page cache (fsync + posix_fadvise DONTNEED). "" or error.
  std::string drop_cache(int source);
  /// Fraction of `source`'s data resident in the page cache now (mmap + mincore).
  core::Expected<double> resident_fraction(int source);
  /// Test fault (CONVERGE_TEST_CORRUPT_IO=1): rank 0 flips one word of the first file, in its
  /// own data. "" or error; no-op without the switch or on other ranks.
  std::string corrupt_for_test();
  /// Test fault (CONVERGE_TEST_FILL_TIER=1): after the space check, rank 0 fills the tier but
  /// 1 MiB with a file of its Scratch, so the data runs into ENOSPC as when another writer
  /// fills the tier during a run. "" or error; no-op without the switch or on other ranks.
  std::string fill_for_test();

  /// In run(): one rank alone throws a run-time IO error at once; with several ranks it is
  /// kept (the rank stops moving data) until settle() in after_repetition or verify.
  void record(const std::string& error);
  /// Collective: every rank learns the first rank's error; then, if there is one, every rank
  /// removes its files in step (non-owners first) and throws it as core::GroupFailure (an
  /// ordinary failed result: the launch goes on).
  void settle(const std::string& local_error);
  /// Collective on every rank: the first rank's non-empty message ("" if none); one rank: its own.
  std::string agree(const std::string& local);
  /// Collective maximum of a value.
  double group_max(double v);
  /// Removes everything (non-owners first, then rank 0 after a barrier when `in_step`).
  void release(bool in_step);
  /// Collective, in setup after a failed agree(): removes everything in step; this rank's
  /// status is its own error (the harness reports the lowest failing rank's), else ok.
  core::SetupStatus stop(const std::string& mine);

#ifdef CONVERGE_IO_MPI
  // The MPI-IO backend (io/mpiio.cpp): open with the hints, write/read the block, and describe
  // the library and the hints in effect (a test open in setup).
  std::string mpiio_write_block(bool sync);
  std::string mpiio_read_block(int source);
  std::string mpiio_setup();
#endif

  const Backend backend_;
  bool collective_ = false;  ///< MPI-IO: MPI_File_write_at_all/read_at_all (IOR -c)
  std::string hints_;        ///< MPI-IO: "key=value,key=value" for MPI_File_open's info
  Geometry g_;
  bool direct_ = false, fsync_ = true, corrupt_ = false, active_ = false, verified_ = false;
  std::uint64_t seed_ = 0;
  int rank_ = 0, nodes_ = 1, per_node_ = 1;
  core::Group* group_ = nullptr;
  std::unique_ptr<Scratch> scratch_;
  std::string pending_;  ///< a run-time error kept until settle()
  std::map<std::string, std::string> notes_;
  bool hugepages_ = true;                ///< the IO buffers advised for transparent huge pages
  std::unique_ptr<core::Mapping> tbuf_;  ///< one transfer to read into (2 MiB-aligned, touched)
  std::unique_ptr<core::Mapping> pbuf_;  ///< one transfer of the pattern to write from
  std::uint64_t period_ = kPatternPeriod;  ///< the pattern's period: transfer, when a multiple of 512
};

/// `bytes` of touched, 2 MiB-aligned memory in a mapping of its own, advised for (huge) or
/// against transparent huge pages; nullptr when it cannot be mapped.
std::unique_ptr<core::Mapping> io_buffer(std::uint64_t bytes, bool huge);

}  // namespace converge::io::bw
