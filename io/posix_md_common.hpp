#pragma once
// What the POSIX IOPS and metadata benchmarks share (io/iops_metadata.md): the tier parameters
// (path, tier), the ranks (MPI_COMM_WORLD through the worker's group, else one process), the
// notes every IO result carries, the test-only fault switch, and a timer that prepares each
// timed repetition before its clock starts and keeps the repetition's time for the spread
// notes. Header-only: both benchmark files include it, and it is small.
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/benchmark.hpp"
#include "core/group.hpp"
#include "core/filesystem.hpp"
#include "core/params.hpp"
#include "core/timer.hpp"
#include "core/units.hpp"
#include "io/scratch.hpp"

#ifdef CONVERGE_IO_MPI
#include "core/mpi/mpi_group.hpp"
#endif

namespace converge::io::posix {

/// The tier directory: "auto" = $CONVERGE_IO_DIR, else $TMPDIR, else /tmp; resolved to its real path.
inline core::ParamSpec path_param() {
  return {"path", core::ParamType::string, "auto",
          "tier directory to write under (auto: $CONVERGE_IO_DIR, else $TMPDIR, else /tmp); resolved to its real path",
          {}, std::nullopt, std::nullopt};
}
/// The tier's name, recorded in results (the driver sets it from the site config).
inline core::ParamSpec tier_param() {
  return {"tier", core::ParamType::string, "", "storage tier name recorded in the result (set by the driver)", {},
          std::nullopt, std::nullopt};
}

/// Resolves `path` ("auto" and symbolic links) and records the real path in the parameters.
inline core::Expected<std::string> resolve_tier(core::ParamValues& params) {
  const std::string path = core::io_directory(params.text("path"), std::getenv("CONVERGE_IO_DIR"), std::getenv("TMPDIR"));
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return core::make_error(io_error(errno, "resolving the tier path " + path));
  std::string resolved(real);
  std::free(real);
  params.resolve("path", resolved);
  return resolved;
}

/// Test-only fault switch: CONVERGE_TEST_CORRUPT_IO=1 corrupts one 8-byte word of the first
/// file on disk, outside any timing, so that the check must report the result invalid.
inline bool corrupt_io_for_test() {
  const char* v = std::getenv("CONVERGE_TEST_CORRUPT_IO");
  return v != nullptr && std::string(v) == "1";
}

/// Overwrites the 8-byte word at `offset` of a Scratch file with its complement (the test-only fault).
inline core::Expected<void> corrupt_word(const Scratch& scratch, const std::string& name, off_t offset) {
  auto fd = scratch.open_file(name, O_RDWR);
  if (!fd) return core::make_error(fd.error());
  std::uint64_t word = 0;
  auto r = read_all(*fd, &word, 8, offset, "reading the word to corrupt");
  if (r) {
    word = ~word;
    r = write_all(*fd, &word, 8, offset, "corrupting " + scratch.path() + "/" + name + " (test-only)");
  }
  if (r && ::fsync(*fd) != 0) r = core::make_error(io_error(errno, "fsync after corrupting " + name));
  ::close(*fd);
  return r;
}

/// The ranks of one instance: MPI_COMM_WORLD when the MPI worker runs several, else this
/// process alone. Every collective here must be called by every rank in the same order.
class Ranks {
 public:
  core::SetupStatus open(const core::Context& ctx) {
    if (ctx.group == nullptr || ctx.group->size() <= 1) return core::SetupStatus::ok();
#ifdef CONVERGE_IO_MPI
    if (auto* world = dynamic_cast<core::mpi::WorldGroup*>(ctx.group)) {
      comm_ = world->comm();
      rank_ = world->rank();
      size_ = world->size();
      return core::SetupStatus::ok();
    }
#endif
    return core::SetupStatus::fail("several ranks need the MPI worker's communicator (converge-worker-io built with MPI)");
  }
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool several() const { return size_ > 1; }

  void barrier() const {
#ifdef CONVERGE_IO_MPI
    if (several()) CONVERGE_MPI_CHECK(MPI_Barrier(comm_));
#endif
  }
  double max(double v) const {
#ifdef CONVERGE_IO_MPI
    if (several()) CONVERGE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, comm_));
#endif
    return v;
  }
  /// Rank 0's string, on every rank.
  std::string broadcast(std::string s) const {
#ifdef CONVERGE_IO_MPI
    if (!several()) return s;
    int n = int(s.size());
    CONVERGE_MPI_CHECK(MPI_Bcast(&n, 1, MPI_INT, 0, comm_));
    s.resize(std::size_t(n));
    CONVERGE_MPI_CHECK(MPI_Bcast(s.data(), n, MPI_CHAR, 0, comm_));
#endif
    return s;
  }
  /// Every rank's values concatenated in rank order, on rank 0 (empty on the others).
  std::vector<double> gather(const std::vector<double>& mine) const {
#ifdef CONVERGE_IO_MPI
    if (several()) {
      int n = int(mine.size());
      std::vector<int> counts(std::size_t(rank_ == 0 ? size_ : 0)), offsets(counts.size());
      CONVERGE_MPI_CHECK(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm_));
      int total = 0;
      for (std::size_t r = 0; r < counts.size(); ++r) offsets[r] = total, total += counts[r];
      std::vector<double> all(static_cast<std::size_t>(total));
      CONVERGE_MPI_CHECK(MPI_Gatherv(mine.data(), n, MPI_DOUBLE, all.data(), counts.data(), offsets.data(),
                                     MPI_DOUBLE, 0, comm_));
      return all;
    }
#endif
    return mine;
  }

 private:
#ifdef CONVERGE_IO_MPI
  MPI_Comm comm_ = MPI_COMM_NULL;
#endif
  int rank_ = 0, size_ = 1;
};

/// Per-repetition times shared by a benchmark and the timer it gives the harness, for the
/// spread note. (The untimed preparation of each repetition is the benchmark's
/// before_repetition(), which the harness calls before its barrier and the timer's start.)
struct Repetitions {
  const Ranks* ranks = nullptr;
  double last_s = 0;               ///< this rank's time of the last timed repetition
  std::vector<double> samples_s;   ///< per timed repetition, the slowest rank's time (the harness's sample)

  /// Called from after_repetition() on every rank: the same max over ranks the harness takes.
  void record() { samples_s.push_back(ranks->max(last_s)); }

  /// "min 3.1e+03 /s, max 1.2e+05 /s (x38.7), CV 45.2 % of the per-repetition rates over 30 repetitions".
  std::string spread(double items) const {
    std::vector<double> rates;
    for (double t : samples_s)
      if (t > 0) rates.push_back(items / t);
    if (rates.empty()) return "no timed repetition";
    const auto [lo, hi] = std::minmax_element(rates.begin(), rates.end());
    double mean = 0, var = 0;
    for (double r : rates) mean += r;
    mean /= double(rates.size());
    for (double r : rates) var += (r - mean) * (r - mean);
    const double cv = rates.size() > 1 ? std::sqrt(var / double(rates.size() - 1)) / mean : 0;
    return fmt::format("min {:.4g} /s, max {:.4g} /s (max/min {:.2f}), CV {:.1f} % of the per-repetition rates over {} "
                       "repetitions",
                       *lo, *hi, *hi / *lo, 100 * cv, rates.size());
  }
};

/// The harness's host clock, keeping this rank's time for the spread note.
class RecordingTimer final : public core::Timer {
 public:
  explicit RecordingTimer(std::shared_ptr<Repetitions> reps) : reps_(std::move(reps)) {}
  void start() override { clock_.start(); }
  double stop() override { return reps_->last_s = clock_.stop(); }
  std::string name() const override { return clock_.name(); }
  double resolution_s() const override { return clock_.resolution_s(); }

 private:
  std::shared_ptr<Repetitions> reps_;
  core::HostTimer clock_;
};

/// The notes every IO result carries: filesystem, scratch directory, space before the run.
inline void tier_notes(std::map<std::string, std::string>& n, const std::string& tier_path, const Scratch* scratch,
                       const SpaceInfo& space) {
  const FilesystemInfo fs = filesystem_of(tier_path);
  n["filesystem"] = fmt::format("{} on {} ({}; {})", fs.type, fs.mount_point, fs.source, fs.options);
  if (scratch != nullptr) n["scratch"] = scratch->path();
  n["space"] = fmt::format("{} available before the run ({} B; {} inodes)", core::format_bytes(space.available_bytes),
                           space.available_bytes, space.available_inodes);
}

/// Bytes aligned to 4096 (O_DIRECT needs the logical block size; 4096 covers every disk).
struct AlignedBuffer {
  std::unique_ptr<unsigned char, decltype(&std::free)> p{nullptr, &std::free};
  std::size_t bytes = 0;
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) : bytes(n) {
    const std::size_t rounded = (std::max<std::size_t>(n, 1) + 4095) / 4096 * 4096;
    p.reset(static_cast<unsigned char*>(std::aligned_alloc(4096, rounded)));
    if (!p) throw std::bad_alloc();
  }
  unsigned char* data() const { return p.get(); }
};

}  // namespace converge::io::posix
