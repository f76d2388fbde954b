// io.posix.read and io.mpiio.read: IOR-style sequential read bandwidth (IOR -a POSIX / -a
// MPIIO). Setup writes every rank's block once (untimed, synced), then keeps the page cache
// from serving the reads (the `readback` parameter) and measures with mincore how much of what
// each rank is about to read is resident anyway; it does both again before every later
// repetition. Each repetition, every rank opens the file, reads a block in `transfer`-byte
// calls (pread, or MPI_File_read_at(_all)) into one buffer and closes.
// bandwidth = block x ranks / time; formulas: io/README.md.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/units.hpp"
#include "io/bw_common.hpp"

namespace converge::io::bw {
namespace {

constexpr double kCacheServed = 0.10;  // more than this resident when a read began: flagged

class Read final : public BandwidthBenchmark {
 public:
  using BandwidthBenchmark::BandwidthBenchmark;

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    auto st = open(params, ctx, true);
    if (!active_) return st;
    readback_ = params.is_auto("readback") ? auto_readback(g_.ranks, nodes_) : readback_from(params.text("readback"));
    params.resolve("readback", readback_name(readback_));
    source_ = readback_ == Readback::reorder ? reorder_source(rank_, g_.ranks, per_node_) : rank_;
    odirect_ = direct_ || readback_ == Readback::direct;

    std::string err;
    if (odirect_ && !direct_) {
      if (auto why = check_geometry(g_.transfer, g_.block, true); !why.empty()) err = "readback=direct: " + why;
      else if (auto fd = scratch_->open_file(file_name(g_.layout, rank_), O_RDONLY | O_DIRECT)) ::close(*fd);
      else err = fd.error() + " (with O_DIRECT: this filesystem may not support it)";
    }
    if (err.empty()) err = write_block(true);
    if (!agree(err).empty()) return stop(err);  // every rank's data is on disk past this point
    err = corrupt_for_test();
    if (!agree(err).empty()) return stop(err);
    err = drops() ? drop_cache(source_) : "";
    if (!agree(err).empty()) return stop(err);
    err = measure();
    if (!agree(err).empty()) return stop(err);
    notes_["readback"] = readback_text();
    if (odirect_ && !direct_) notes_["direct"] = "O_DIRECT reads (readback=direct); setup's write was buffered";
    notes_["buffer"] = buffer_text(false);
    notes_["timed"] = "per rank and repetition: " + calls_text(false, source_, odirect_) +
                      "; the repetition's time is the slowest rank's";
    return core::SetupStatus::ok();
  }

  /// Untimed, before the ranks' barrier: a read that follows another read directly (after a
  /// warm-up: the harness calls after_repetition() after timed repetitions only) first drops
  /// the cache and measures what is still resident, as after_repetition() does.
  void before_repetition() override {
    settle(std::exchange(pending_, ""));  // a warm-up's error (no after_repetition follows warm-ups)
    if (prepared_ || !drops()) return;
    settle(drop_cache(source_));
    settle(measure());
  }

  void run() override {
    if (!pending_.empty()) return;
    prepared_ = false;
    if (pending_.empty()) record(read_block(source_, odirect_));
  }

  void after_repetition(int) override {
    std::string err = std::exchange(pending_, "");
    if (err.empty() && drops()) err = drop_cache(source_);
    settle(err);  // also: every rank has dropped before anyone measures
    settle(measure());
  }

  core::Verification verify() override {
    std::string mismatch;
    settle(check_block(source_, odirect_, mismatch));
    resident_ = group_max(resident_);
    verified_ = true;
    std::string method = fmt::format(
        "after the last repetition, outside the timed region, every rank re-read the {} it reads (after fsync and "
        "posix_fadvise(DONTNEED){}) and compared every 8-byte word with the written pattern (splitmix64 of seed, "
        "file, offset): exact. The timed reads' own buffers are not checked (that would be timed); {}",
        core::format_bytes(g_.block), odirect_ ? ", with O_DIRECT" : "", cache_text());
    return mismatch.empty() ? core::Verification::passed(method) : core::Verification::failed(method, mismatch);
  }

  std::map<std::string, std::string> notes() const override {
    auto n = BandwidthBenchmark::notes();
    if (checks_ == 0) return n;
    n["page_cache_resident"] = fmt::format(
        "at most {:.1f}% of the bytes a rank reads were in the page cache when a read was due (mincore, {} times: in "
        "setup and before each timed repetition{})",
        100 * resident_, checks_, verified_ ? "; maximum over ranks" : "; this rank");
    if (odirect_) n["page_cache"] = "O_DIRECT reads bypassed the page cache";
    else if (resident_ > kCacheServed) n["cache_served"] = served_text();
    return n;
  }

 private:
  bool drops() const { return readback_ == Readback::reorder || readback_ == Readback::fadvise; }

  // How much of what this rank reads next is resident. Called once every rank has dropped:
  // ranks dropping one shared file at the same time skip the pages another is dropping then.
  std::string measure() {
    auto f = resident_fraction(source_);
    if (!f) return f.error();
    resident_ = std::max(resident_, *f);
    ++checks_;
    prepared_ = true;
    return "";
  }

  std::string cache_text() const {
    const int pct = int(std::lround(100 * resident_));
    if (odirect_) return fmt::format("O_DIRECT bypassed the page cache ({}% of the data was resident)", pct);
    if (resident_ > kCacheServed) return "cache_served: " + served_text();
    return fmt::format("at most {:.1f}% of the data was in the page cache when a read began (mincore)", 100 * resident_);
  }

  std::string served_text() const {
    return fmt::format("{}% of the data was in the page cache when a read began (the read-back did not defeat the cache)",
                       std::lround(100 * resident_));
  }

  std::string readback_text() const {
    switch (readback_) {
      case Readback::reorder:
        if (nodes_ == 1)
          return fmt::format("reorder: all {} ranks are on one node, whose page cache they share, so reordering "
                             "cannot defeat it: each rank reads rank (r + {}) % {} = its own data, and drops it "
                             "from the cache (fsync + posix_fadvise DONTNEED) before each read",
                             g_.ranks, per_node_, g_.ranks);
        return fmt::format("reorder (IOR -C): rank r reads what rank (r + {}) % {} wrote, on another node; since a "
                           "read leaves the data in the reader's node's cache, the reader also drops it (fsync + "
                           "posix_fadvise DONTNEED) before each read",
                           per_node_, g_.ranks);
      case Readback::fadvise:
        return "fadvise: each rank drops the file it reads from the page cache (fsync + posix_fadvise DONTNEED) "
               "before each read, outside the timed region";
      case Readback::direct: return "direct: O_DIRECT reads bypass the page cache";
      case Readback::none: break;
    }
    return "none: nothing keeps the page cache from serving the reads";
  }

  Readback readback_ = Readback::fadvise;
  int source_ = 0, checks_ = 0;
  bool odirect_ = false, prepared_ = false;
  double resident_ = 0;  ///< the largest resident fraction seen before a read (over ranks after verify)
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    posix_read,
    (core::BenchmarkSpec{"io.posix.read", "io", "posix",
                         "sequential read bandwidth (IOR-style: file per process or one shared file, segmented or "
                         "strided; page cache defeated by rank reordering, fadvise or O_DIRECT, and measured)",
                         bw_params(true), bw_metrics(), [] { return std::make_unique<Read>(Backend::posix); }}));

#ifdef CONVERGE_IO_MPI
CONVERGE_REGISTER_BENCHMARK(
    mpiio_read,
    (core::BenchmarkSpec{"io.mpiio.read", "io", "mpiio",
                         "sequential read bandwidth with MPI-IO (IOR -a MPIIO: explicit offsets, independent or "
                         "collective, hints; page cache defeated by rank reordering or fadvise, and measured)",
                         bw_params(true, Backend::mpiio), bw_metrics(),
                         [] { return std::make_unique<Read>(Backend::mpiio); }}));
#endif

}  // namespace converge::io::bw
