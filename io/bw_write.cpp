// io.posix.write and io.mpiio.write: IOR-style sequential write bandwidth (IOR -a POSIX / -a
// MPIIO). Each repetition, every rank opens its existing file (or the shared one), emptied
// before the repetition, writes its block in `transfer`-byte calls (pwrite, or
// MPI_File_write_at(_all)) at the layout's offsets from one transfer buffer filled with the
// pattern in setup (each call first rewrites its 512-byte sectors' stamps, as fio does),
// syncs (fsync / MPI_File_sync: IOR -e, default on) and closes; the harness times it as the
// slowest rank saw it. Read back and checked outside the timed region.
// bandwidth = block x ranks / time; formulas: io/README.md.
#include <fmt/format.h>

#include "core/units.hpp"
#include "io/bw_common.hpp"

namespace converge::io::bw {
namespace {

class Write final : public BandwidthBenchmark {
 public:
  using BandwidthBenchmark::BandwidthBenchmark;

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    auto st = open(params, ctx, false);
    if (!active_) return st;
    notes_["buffer"] = buffer_text(true);
    notes_["timed"] = "per rank and repetition: " + calls_text(true, rank_, direct_) +
                      "; the repetition's time is the slowest rank's";
    if (!fsync_)
      notes_["fsync"] = "off: the time stops when the data is in the page cache, not when it is on the device";
    return core::SetupStatus::ok();
  }

  /// Untimed, before the ranks' barrier: every repetition writes into an empty file, so its
  /// time includes block allocation, as a fresh file's write does (and as fio and IOR measure).
  /// An error of a warm-up (after which the harness calls no after_repetition) is settled here.
  void before_repetition() override {
    settle(std::exchange(pending_, ""));
    settle(truncate_own());  // agreed: MPI-IO's collective calls need every rank in run()
  }

  void run() override {
    if (pending_.empty()) record(write_block(fsync_));
  }

  void after_repetition(int) override { settle(std::exchange(pending_, "")); }

  core::Verification verify() override {
    settle(corrupt_for_test());  // also a barrier: every rank has written before anyone reads back
    std::string mismatch;
    settle(check_block(rank_, direct_, mismatch));
    verified_ = true;
    const std::string method = fmt::format(
        "after the last repetition, outside the timed region, every rank read its {} back in {} reads (after fsync "
        "and posix_fadvise(DONTNEED){}) and compared every 8-byte word with the written pattern (splitmix64 of seed, "
        "file, offset): exact",
        core::format_bytes(g_.block), core::format_bytes(g_.transfer), direct_ ? ", with O_DIRECT" : "");
    return mismatch.empty() ? core::Verification::passed(method) : core::Verification::failed(method, mismatch);
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    posix_write,
    (core::BenchmarkSpec{"io.posix.write", "io", "posix",
                         "sequential write bandwidth (IOR-style: file per process or one shared file, segmented or "
                         "strided; fsync counted, as IOR -e)",
                         bw_params(false), bw_metrics(), [] { return std::make_unique<Write>(Backend::posix); }}));

#ifdef CONVERGE_IO_MPI
CONVERGE_REGISTER_BENCHMARK(
    mpiio_write,
    (core::BenchmarkSpec{"io.mpiio.write", "io", "mpiio",
                         "sequential write bandwidth with MPI-IO (IOR -a MPIIO: explicit offsets, independent or "
                         "collective, hints; MPI_File_sync counted, as IOR -e)",
                         bw_params(false, Backend::mpiio), bw_metrics(),
                         [] { return std::make_unique<Write>(Backend::mpiio); }}));
#endif

}  // namespace converge::io::bw
