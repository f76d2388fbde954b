// io.posix.iops_read, io.posix.iops_write: random `io_size` transfers at io_size-aligned
// offsets of a preallocated file per rank, `threads` synchronous pread/pwrite loops per rank
// (the queue depth: fio's ioengine=psync with numjobs=threads), O_DIRECT by default (fio's
// direct=1). IOPS come from the harness's time of the repetition (slowest rank); per-operation
// latencies are measured inside run() around each call, as fio's clat. io/iops_metadata.md.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "io/posix_md_common.hpp"

namespace converge::io::posix {
namespace {

constexpr std::size_t kRing = 16;              // read buffers per thread: the last 16 reads stay for the check
constexpr std::size_t kSlabMax = 64ull << 20;  // write payloads prefilled per thread up to this many bytes
constexpr std::size_t kChunk = 4ull << 20;     // setup's preallocation and verify's re-read

std::uint64_t next_random(std::uint64_t& state) {  // splitmix64
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Worker {  // one thread: its descriptor, offset stream, buffers and latencies
  int fd = -1;
  std::uint64_t rng = 0;
  std::vector<std::uint64_t> offsets;  // this repetition's, in issue order
  std::vector<double> latency_s;       // this repetition's, per operation
  AlignedBuffer buffers;               // read: kRing slots; write: one slot per operation, or one
  bool prefilled = false;
  std::string error;
};

class Iops final : public core::Benchmark {
 public:
  explicit Iops(bool write) : write_(write) {}
  ~Iops() override { teardown(); }

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = ranks_.open(ctx); st.kind != core::SetupStatus::Kind::ok) return st;
    reps_->ranks = &ranks_;
    auto tier = resolve_tier(params);
    if (!tier) return core::SetupStatus::fail(tier.error());
    tier_ = *tier;
    io_size_ = params.size("io_size");
    if (io_size_ % 512 != 0)
      return core::SetupStatus::fail(fmt::format("io_size {} is not a multiple of 512 bytes (O_DIRECT alignment)", io_size_));
    file_size_ = params.size("file_size") / io_size_ * io_size_;
    if (file_size_ == 0) return core::SetupStatus::fail("file_size is smaller than io_size");
    params.resolve("file_size", std::to_string(file_size_));
    threads_ = std::size_t(params.integer("threads"));
    ops_ = std::size_t(params.integer("ops"));
    direct_ = params.boolean("direct");
    seed_ = std::uint64_t(params.integer("seed"));
    corrupt_ = corrupt_io_for_test();
    auto space = space_of(tier_);
    if (!space) return core::SetupStatus::fail(space.error());
    space_ = *space;
    // Every rank's file may land on this filesystem: the check asks for all of them.
    auto scratch = Scratch::create(tier_, file_size_ * std::uint64_t(ranks_.size()), 16);
    if (!scratch) return core::SetupStatus::fail(scratch.error());
    scratch_ = std::move(*scratch);
    name_ = fmt::format("iops.{}", ranks_.rank());
    file_path_ = scratch_->path() + "/" + name_;
    auto fd = scratch_->create_file(name_, O_RDWR);
    if (!fd) return core::SetupStatus::fail(fd.error());
    fd_ = *fd;
    if (auto r = preallocate(); !r) return core::SetupStatus::fail(r.error());
    workers_.resize(threads_);
    for (std::size_t t = 0; t < threads_; ++t) {
      Worker& w = workers_[t];
      auto wfd = scratch_->open_file(name_, O_RDWR | (direct_ ? O_DIRECT : 0));
      if (!wfd) {
        const bool refused = direct_ && wfd.error().find(std::strerror(EINVAL)) != std::string::npos;
        return core::SetupStatus::fail(wfd.error() + (refused ? " (the filesystem refuses O_DIRECT, as tmpfs does: "
                                                                "run with direct=false)" : ""));
      }
      w.fd = *wfd;
      if (!direct_) ::posix_fadvise(w.fd, 0, 0, POSIX_FADV_RANDOM);  // no readahead (fio's fadvise_hint)
      w.rng = seed_ ^ (std::uint64_t(ranks_.rank()) << 32 | t) * 0xD1B54A32D192ED03ull;
      w.offsets.resize(ops_);
      w.latency_s.resize(ops_);
      w.prefilled = write_ && ops_ * io_size_ <= kSlabMax;
      w.buffers = AlignedBuffer(io_size_ * (write_ ? (w.prefilled ? ops_ : 1) : kRing));
    }
    return core::SetupStatus::ok();
  }

  void run() override {
    if (threads_ == 1) {
      loop(workers_[0]);
    } else {
      std::vector<std::thread> threads;
      for (auto& w : workers_) threads.emplace_back([this, &w] { loop(w); });
      for (auto& t : threads) t.join();
    }
    for (const auto& w : workers_)
      if (!w.error.empty()) throw std::runtime_error(w.error);
    // Buffered writes reach the device inside the repetition's time (IOR's -e).
    if (write_ && !direct_ && ::fsync(fd_) != 0) throw std::runtime_error(io_error(errno, "fsync " + file_path_));
  }

  /// Untimed, before the ranks' barrier and every repetition (warm-ups too).
  void before_repetition() override { prepare(); }

  void after_repetition(int) override {
    reps_->record();
    if (write_) return;
    for (auto& w : workers_)  // the last kRing blocks each thread read are still in its ring
      for (std::size_t i = ops_ - std::min(ops_, kRing); i < ops_; ++i) {
        const auto bad = check_pattern(w.buffers.data() + (i % kRing) * io_size_, io_size_, seed_,
                                       std::uint64_t(ranks_.rank()), w.offsets[i]);
        ++blocks_checked_;
        if (bad >= 0 && failure_.empty())
          failure_ = fmt::format("file {} offset {}: the block read at offset {} differs from the pattern", file_path_,
                                 w.offsets[i] + std::uint64_t(bad), w.offsets[i]);
      }
  }

  core::Verification verify() override {
    if (write_ && corrupt_ && ranks_.rank() == 0)  // after the last write, which could have overwritten it
      if (auto r = corrupt_word(*scratch_, name_, corrupt_offset()); !r) throw std::runtime_error(r.error());
    AlignedBuffer chunk(kChunk);
    for (std::uint64_t off = 0; off < file_size_ && failure_.empty(); off += kChunk) {
      const std::size_t n = std::size_t(std::min<std::uint64_t>(kChunk, file_size_ - off));
      if (auto r = read_all(fd_, chunk.data(), n, off_t(off), "re-reading " + file_path_); !r)
        throw std::runtime_error(r.error());
      if (const auto bad = check_pattern(chunk.data(), n, seed_, std::uint64_t(ranks_.rank()), off); bad >= 0)
        failure_ = fmt::format("file {} offset {}: the 8-byte word differs from the pattern", file_path_,
                               off + std::uint64_t(bad));
    }
    std::vector<double> mine;
    for (const auto& w : workers_) mine.insert(mine.end(), w.latency_s.begin(), w.latency_s.end());
    latencies_ = ranks_.gather(mine);  // every rank's, on rank 0
    std::sort(latencies_.begin(), latencies_.end());
    const std::string method =
        write_ ? "after the last repetition the whole file was re-read and every 8-byte word checked against the pattern "
                 "of its offset (each random write carries the pattern of the block it overwrites)"
               : fmt::format("after every timed repetition the last {} blocks each thread read were checked against the "
                             "pattern of their offset ({} blocks in all); after the last, the whole file was re-read and "
                             "every 8-byte word checked", std::min(ops_, kRing), blocks_checked_);
    return failure_.empty() ? core::Verification::passed(method) : core::Verification::failed(method, failure_);
  }

  void teardown() override {
    for (auto& w : workers_)
      if (w.fd >= 0) ::close(w.fd), w.fd = -1;
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
    scratch_.reset();  // removes the file and the directory
  }

  core::WorkModel work() const override {
    core::WorkModel w;
    w.items = double(ops_) * double(threads_) * double(ranks_.size());
    w.bytes = w.items * double(io_size_);
    return w;
  }

  std::unique_ptr<core::Timer> make_timer() const override { return std::make_unique<RecordingTimer>(reps_); }

  std::map<std::string, std::string> notes() const override {
    std::map<std::string, std::string> n;
    if (scratch_) tier_notes(n, tier_, scratch_.get(), space_);
    if (scratch_ && ranks_.several()) n["scratch"] += " (rank 0's; every rank writes its file in a directory of its own)";
    n["ranks"] = std::to_string(ranks_.size());
    n["queue_depth"] = fmt::format("{} per rank: {} threads, each one synchronous {} at a time on its own descriptor "
                                   "(fio ioengine=psync, numjobs={}, iodepth=1)",
                                   threads_, threads_, write_ ? "pwrite" : "pread", threads_);
    n["cache"] = direct_ ? "O_DIRECT: the page cache is bypassed (fio direct=1)"
                 : write_ ? "buffered writes (no O_DIRECT), fsync at the end of every repetition, counted in its time"
                          : "buffered reads (no O_DIRECT) with POSIX_FADV_RANDOM (no readahead), the file's page cache "
                            "dropped with posix_fadvise(DONTNEED) before every timed repetition";
    n["offsets"] = fmt::format("uniform random io_size-aligned blocks of the {}-byte file, with replacement; a "
                               "splitmix64 stream per rank and thread (seed {}) continuing across repetitions",
                               file_size_, seed_);
    if (write_)
      n["write_payload"] = !workers_.empty() && !workers_[0].prefilled
                               ? "the pattern of each block's offset, filled before each pwrite: inside the repetition's "
                                 "time, outside the per-operation latency (ops x io_size above 64 MiB per thread)"
                               : "the pattern of each block's offset, filled before the repetition (untimed)";
    if (!latencies_.empty()) {
      auto pct = [&](double p) {
        const double rank = std::ceil(p * double(latencies_.size()));
        return latencies_[std::size_t(std::clamp(rank, 1.0, double(latencies_.size()))) - 1];
      };
      double mean = 0;
      for (double v : latencies_) mean += v;
      n["latency_p50_s"] = fmt::format("{:.4g}", pct(0.50));
      n["latency_p99_s"] = fmt::format("{:.4g}", pct(0.99));
      n["latency_p99_9_s"] = fmt::format("{:.4g}", pct(0.999));
      n["latency_max_s"] = fmt::format("{:.4g}", latencies_.back());
      n["latency_mean_s"] = fmt::format("{:.4g}", mean / double(latencies_.size()));
      n["latency_method"] = fmt::format(
          "steady_clock around each {} inside run() (fio's clat), the only timing the benchmark does itself; {} "
          "operations of the last timed repetition, all ranks and threads; percentiles by nearest rank. IOPS and "
          "bandwidth come from the harness's time of the whole repetition",
          write_ ? "pwrite" : "pread", latencies_.size());
    }
    if (!reps_->samples_s.empty()) n["spread"] = reps_->spread(work().items);
    if (corrupt_)
      n["fault_injection"] = fmt::format("CONVERGE_TEST_CORRUPT_IO=1: rank 0 complemented the 8-byte word at offset {} "
                                         "of its file {} (test-only)", corrupt_offset(),
                                         write_ ? "after the last repetition" : "after preallocating it");
    return n;
  }

 private:
  std::uint64_t corrupt_offset() const { return file_size_ / 16 * 8; }  // the middle word

  core::Expected<void> preallocate() {
    AlignedBuffer chunk(kChunk);
    for (std::uint64_t off = 0; off < file_size_; off += kChunk) {
      const std::size_t n = std::size_t(std::min<std::uint64_t>(kChunk, file_size_ - off));
      fill_pattern(chunk.data(), n, seed_, std::uint64_t(ranks_.rank()), off);
      if (auto r = write_all(fd_, chunk.data(), n, off_t(off), "preallocating " + file_path_); !r) return r;
    }
    if (::fsync(fd_) != 0) return core::make_error(io_error(errno, "fsync " + file_path_));
    if (!write_ && corrupt_ && ranks_.rank() == 0)
      if (auto r = corrupt_word(*scratch_, name_, off_t(corrupt_offset())); !r) return r;
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);  // clean pages after fsync: the first reads go to the device
    return {};
  }

  // Untimed, before each repetition: its offsets, write payloads, and (buffered reads) a cold cache.
  void prepare() {
    const std::uint64_t blocks = file_size_ / io_size_;
    for (auto& w : workers_)
      for (std::size_t i = 0; i < ops_; ++i) {
        w.offsets[i] = next_random(w.rng) % blocks * io_size_;
        if (w.prefilled)
          fill_pattern(w.buffers.data() + i * io_size_, io_size_, seed_, std::uint64_t(ranks_.rank()), w.offsets[i]);
      }
    if (!direct_ && !write_) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
  }

  void loop(Worker& w) {
    w.error.clear();
    const auto rank = std::uint64_t(ranks_.rank());
    for (std::size_t i = 0; i < ops_; ++i) {
      const std::uint64_t off = w.offsets[i];
      unsigned char* buf = w.buffers.data() + (write_ ? (w.prefilled ? i : 0) : i % kRing) * io_size_;
      if (write_ && !w.prefilled) fill_pattern(buf, io_size_, seed_, rank, off);
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = write_ ? write_all(w.fd, buf, io_size_, off_t(off), file_path_)
                            : read_all(w.fd, buf, io_size_, off_t(off), file_path_);
      const auto t1 = std::chrono::steady_clock::now();
      if (!r) {
        w.error = r.error();
        return;
      }
      w.latency_s[i] = std::chrono::duration<double>(t1 - t0).count();
    }
  }

  const bool write_;
  Ranks ranks_;
  std::shared_ptr<Repetitions> reps_ = std::make_shared<Repetitions>();
  std::string tier_, name_, file_path_;
  SpaceInfo space_;
  std::unique_ptr<Scratch> scratch_;
  int fd_ = -1;  // setup's descriptor (buffered): preallocation, cache drops, verify's re-read
  std::uint64_t io_size_ = 0, file_size_ = 0, seed_ = 1;
  std::size_t threads_ = 1, ops_ = 0, blocks_checked_ = 0;
  bool direct_ = true, corrupt_ = false;
  std::vector<Worker> workers_;
  std::vector<double> latencies_;  // sorted, rank 0: every rank's last-repetition latencies
  std::string failure_;
};

core::BenchmarkSpec iops_spec(bool write) {
  using core::ParamType;
  return {write ? "io.posix.iops_write" : "io.posix.iops_read",
          "io",
          "posix",
          write ? "random io_size pwrite IOPS and per-operation latency percentiles over a preallocated file per rank"
                : "random io_size pread IOPS and per-operation latency percentiles over a preallocated file per rank",
          {path_param(),
           tier_param(),
           {"file_size", ParamType::size, "256MiB", "bytes of the preallocated file per rank (rounded down to io_size)",
            {}, 512.0, std::nullopt},
           {"io_size", ParamType::size, "4KiB", "bytes per operation, a multiple of 512; offsets are io_size-aligned",
            {}, 512.0, std::nullopt},
           {"threads", ParamType::integer, "1",
            "threads per rank, each a synchronous loop on its own descriptor: the queue depth per rank", {}, 1.0, 1024.0},
           {"ops", ParamType::integer, "2000", "operations per thread per repetition (0.2 s at 10k IOPS per thread)", {},
            1.0, std::nullopt},
           {"direct", ParamType::boolean, "true",
            "O_DIRECT (fio direct=1); false: buffered, page cache dropped before each repetition", {}, std::nullopt,
            std::nullopt},
           {"seed", ParamType::integer, "1", "seed of the offsets and of the data pattern", {}, 0.0, std::nullopt}},
          {{"iops", "1/s", core::MetricKind::rate, core::Quantity::items, core::Direction::higher_is_better},
           {"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better}},
          [write] { return std::make_unique<Iops>(write); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(posix_iops_read, iops_spec(false));
CONVERGE_REGISTER_BENCHMARK(posix_iops_write, iops_spec(true));

}  // namespace converge::io::posix
