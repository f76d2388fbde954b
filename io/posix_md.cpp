// io.posix.md_{create,stat,open_close,read,remove}: mdtest-style metadata rates. Each rank
// works on `files` files in the deepest directory of a `depth`-level chain, in one directory
// all ranks share ("shared", mdtest's default) or one per rank ("rank.<r>", mdtest -u). Each
// benchmark times ONE phase; the phases it needs around it run untimed (in setup, and before
// each timed repetition), so every repetition starts from the same state. io/iops_metadata.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "io/posix_md_common.hpp"

namespace converge::io::posix {
namespace {

enum class Phase { create, stat, open_close, read, remove };

struct PhaseInfo {
  const char* name;
  const char* mdtest;  // mdtest's name for the phase
  const char* call;    // what one item is
  const char* small_default;
};

PhaseInfo info(Phase p) {
  switch (p) {
    case Phase::create:
      return {"md_create", "File creation (mdtest -F -C, -w small_bytes)",
              "openat(O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW) through the Scratch, write small_bytes, close", "0"};
    case Phase::stat:
      return {"md_stat", "File stat (mdtest -F -T)", "fstatat(directory fd, name, AT_SYMLINK_NOFOLLOW)", "0"};
    case Phase::open_close:
      return {"md_open_close", "File read with -e 0 (mdtest -F -E): open and close",
              "openat(directory fd, name, O_RDONLY|O_NOFOLLOW), close", "0"};
    case Phase::read:
      return {"md_read", "File read (mdtest -F -E -e small_bytes)",
              "openat(directory fd, name, O_RDONLY|O_NOFOLLOW), pread small_bytes, close", "4096"};
    case Phase::remove: break;
  }
  return {"md_remove", "File removal (mdtest -F -r)", "unlinkat through the Scratch", "0"};
}

class Metadata final : public core::Benchmark {
 public:
  explicit Metadata(Phase p) : phase_(p) {}
  ~Metadata() override { teardown(); }

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = ranks_.open(ctx); st.kind != core::SetupStatus::Kind::ok) return st;
    reps_->ranks = &ranks_;
    auto tier = resolve_tier(params);
    if (!tier) return core::SetupStatus::fail(tier.error());
    tier_ = *tier;
    files_ = std::size_t(params.integer("files"));
    depth_ = int(params.integer("depth"));
    shared_ = params.boolean("shared_dir");
    small_ = params.size("small_bytes");
    seed_ = std::uint64_t(params.integer("seed"));
    corrupt_ = corrupt_io_for_test();
    const int rank = ranks_.rank();
    const std::string base = shared_ ? "shared" : fmt::format("rank.{}", rank);
    std::vector<std::string> chain = {base};
    for (int d = 1; d <= depth_; ++d) chain.push_back(fmt::format("{}/tree.{}", chain.back(), d));
    leaf_ = chain.back();
    layout_ = shared_ ? leaf_ : "rank.<rank>" + leaf_.substr(base.size());
    for (std::size_t i = 0; i < files_; ++i) {
      names_.push_back(fmt::format("f.{}.{}", rank, i));
      paths_.push_back(leaf_ + "/" + names_.back());
    }
    auto space = space_of(tier_);
    if (!space) return core::SetupStatus::fail(space.error());
    space_ = *space;

    // Shared: rank 0 creates the Scratch and the chain, the others join it (every rank reaches
    // the broadcast, failed or not, so that none waits). Per rank: each its own Scratch.
    const std::uint64_t writers = shared_ ? std::uint64_t(ranks_.size()) : 1;
    const std::uint64_t block_bytes = (small_ + 4095) / 4096 * 4096;
    std::string error;
    if (!shared_ || rank == 0) {
      auto s = Scratch::create(tier_, writers * files_ * block_bytes, writers * (files_ + 1) + std::uint64_t(depth_) + 4);
      if (!s) error = s.error();
      else scratch_ = std::move(*s);
      for (std::size_t d = 0; error.empty() && d < chain.size(); ++d)
        if (auto r = scratch_->make_dir(chain[d]); !r) error = r.error();
    }
    if (shared_) {
      const std::string dir = ranks_.broadcast(error.empty() && scratch_ ? scratch_->path() : std::string());
      if (rank != 0 && dir.empty()) return core::SetupStatus::fail("rank 0 could not prepare the shared directory");
      if (rank != 0) {
        auto s = Scratch::join(dir);
        if (!s) return core::SetupStatus::fail(s.error());
        scratch_ = std::move(*s);
      }
    }
    if (!error.empty()) return core::SetupStatus::fail(error);
    auto dirfd = scratch_->open_file(leaf_, O_RDONLY | O_DIRECTORY);
    if (!dirfd) return core::SetupStatus::fail(dirfd.error());
    leaf_fd_ = *dirfd;
    for (const auto& path : paths_) full_.push_back(scratch_->path() + "/" + path);  // for error messages
    content_ = AlignedBuffer((small_ + 7) / 8 * 8);
    fill_pattern(content_.data(), content_.bytes, seed_, std::uint64_t(rank), 0);
    readback_ = AlignedBuffer(content_.bytes);
    if (phase_ != Phase::create) {  // every other phase starts with the files there
      try {
        create_all();
      } catch (const std::exception& e) {
        return core::SetupStatus::fail(e.what());
      }
    }
    return core::SetupStatus::ok();
  }

  void run() override {
    switch (phase_) {
      case Phase::create: create_all(); break;
      case Phase::remove: remove_all(); break;
      case Phase::stat:
        for (const auto& name : names_) {
          struct stat st {};
          if (::fstatat(leaf_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw std::runtime_error(io_error(errno, "stat " + where(name)));
          if (std::uint64_t(st.st_size) != small_ && failure_.empty())
            failure_ = fmt::format("file {}: stat gave {} bytes, {} were written", where(name), st.st_size, small_);
        }
        break;
      case Phase::open_close:
      case Phase::read:
        for (std::size_t i = 0; i < names_.size(); ++i) {
          const int fd = ::openat(leaf_fd_, names_[i].c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0) throw std::runtime_error(io_error(errno, "opening " + where(names_[i])));
          auto r = phase_ == Phase::read ? read_all(fd, readback_.data(), small_, 0, full_[i]) : core::Expected<void>();
          ::close(fd);
          if (!r) throw std::runtime_error(r.error());
        }
        break;
    }
    // mdtest's phase time runs from the opening barrier to the closing one: with it, each
    // rank's time ends when the last rank finishes, and the slowest rank's time (the harness's
    // sample) is the phase's wall time from the earliest start, not the longest rank alone.
    ranks_.barrier();
  }

  /// Untimed, before the ranks' barrier and every repetition (warm-ups too).
  void before_repetition() override { prepare(); }

  void after_repetition(int) override { reps_->record(); }

  core::Verification verify() override {
    if (corrupt_ && ranks_.rank() == 0 && present_ && small_ >= 8)
      if (auto r = corrupt_word(*scratch_, paths_[0], 0); !r) throw std::runtime_error(r.error());
    std::string method;
    if (phase_ == Phase::remove) {
      method = "after the last repetition no file of this rank is left (fstatat gives ENOENT for each)";
      for (const auto& name : names_) {
        struct stat st {};
        if (failure_.empty() && ::fstatat(leaf_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
          failure_ = fmt::format("file {} still exists after the removal phase", where(name));
      }
    } else {
      method = fmt::format("after the last repetition every file of every rank is a regular file of {} bytes{}", small_,
                           small_ > 0 ? " whose content matches the rank's pattern byte for byte" : "");
      for (std::size_t i = 0; i < names_.size() && failure_.empty(); ++i) check_file(names_[i]);
    }
    ranks_.barrier();  // every rank got here: teardown may order the removal (rank 0 last)
    synced_ = true;
    return failure_.empty() ? core::Verification::passed(method) : core::Verification::failed(method, failure_);
  }

  void teardown() override {
    if (leaf_fd_ >= 0) ::close(leaf_fd_), leaf_fd_ = -1;
    // Shared directory: the joined ranks remove their files before rank 0 removes the directory.
    // Only on the normal path (verify() ran on every rank); after a failure a barrier could hang.
    if (shared_ && synced_ && ranks_.several()) {
      if (ranks_.rank() != 0) scratch_.reset();
      ranks_.barrier();
      synced_ = false;
    }
    scratch_.reset();
  }

  core::WorkModel work() const override {
    core::WorkModel w;
    w.items = double(files_) * double(ranks_.size());
    if (phase_ == Phase::create || phase_ == Phase::read) w.bytes = w.items * double(small_);
    return w;
  }

  std::unique_ptr<core::Timer> make_timer() const override { return std::make_unique<RecordingTimer>(reps_); }

  std::map<std::string, std::string> notes() const override {
    std::map<std::string, std::string> n;
    if (scratch_) tier_notes(n, tier_, scratch_.get(), space_);
    if (scratch_ && !shared_ && ranks_.several()) n["scratch"] += " (rank 0's; every rank works in a directory of its own)";
    if (ranks_.several())
      n["timing"] = "the harness's time of the slowest rank, each rank's region closed by a barrier (mdtest's phase "
                    "time: earliest start to latest end)";
    const PhaseInfo pi = info(phase_);
    n["ranks"] = std::to_string(ranks_.size());
    n["mdtest_phase"] = pi.mdtest;
    n["operation"] = pi.call;
    n["layout"] = fmt::format("{} files per rank as {}/f.<rank>.<i> ({}, depth {})", files_, layout_,
                              shared_ ? "one directory shared by all ranks" : "one directory per rank", depth_);
    n["untimed"] = phase_ == Phase::create ? "the files are removed before each repetition"
                   : phase_ == Phase::remove ? "the files are created in setup and again before each repetition"
                                             : "the files are created once in setup";
    if (!reps_->samples_s.empty()) n["spread"] = reps_->spread(work().items);
    if (corrupt_)
      n["fault_injection"] = present_ && small_ >= 8
                                 ? "CONVERGE_TEST_CORRUPT_IO=1: rank 0 complemented the first 8-byte word of its first "
                                   "file after the last repetition (test-only)"
                                 : "CONVERGE_TEST_CORRUPT_IO=1 not applied: no file holds an 8-byte word (small_bytes < 8 "
                                   "or the files were removed)";
    return n;
  }

 private:
  std::string where(const std::string& name) const { return scratch_->path() + "/" + leaf_ + "/" + name; }

  void create_all() {
    for (std::size_t i = 0; i < paths_.size(); ++i) {
      auto fd = scratch_->create_file(paths_[i], O_WRONLY);
      if (!fd) throw std::runtime_error(fd.error());
      auto r = small_ > 0 ? write_all(*fd, content_.data(), small_, 0, full_[i]) : core::Expected<void>();
      ::close(*fd);
      if (!r) throw std::runtime_error(r.error());
    }
    present_ = true;
  }

  void remove_all() {
    for (const auto& path : paths_)
      if (auto r = scratch_->remove_file(path); !r) throw std::runtime_error(r.error());
    present_ = false;
  }

  // Untimed, before each repetition: back to the state the timed phase starts from.
  void prepare() {
    if (phase_ == Phase::create && present_) remove_all();
    if (phase_ == Phase::remove && !present_) create_all();
  }

  void check_file(const std::string& name) {
    struct stat st {};
    if (::fstatat(leaf_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      failure_ = io_error(errno, "stat " + where(name));
      return;
    }
    if (!S_ISREG(st.st_mode) || std::uint64_t(st.st_size) != small_) {
      failure_ = fmt::format("file {}: {} bytes{}, {} expected", where(name), st.st_size,
                             S_ISREG(st.st_mode) ? "" : " and not a regular file", small_);
      return;
    }
    if (small_ == 0) return;
    const int fd = ::openat(leaf_fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      failure_ = io_error(errno, "opening " + where(name));
      return;
    }
    auto r = read_all(fd, readback_.data(), small_, 0, where(name));
    ::close(fd);
    if (!r) {
      failure_ = r.error();
      return;
    }
    for (std::size_t b = 0; b < small_; ++b)
      if (readback_.data()[b] != content_.data()[b]) {
        failure_ = fmt::format("file {} offset {}: the content differs from the pattern", where(name), b);
        return;
      }
  }

  const Phase phase_;
  Ranks ranks_;
  std::shared_ptr<Repetitions> reps_ = std::make_shared<Repetitions>();
  std::string tier_, leaf_, layout_;
  std::vector<std::string> names_, paths_, full_;  // in the leaf directory; from the Scratch's root; absolute
  SpaceInfo space_;
  std::unique_ptr<Scratch> scratch_;
  int leaf_fd_ = -1;
  std::size_t files_ = 0;
  int depth_ = 0;
  bool shared_ = true, present_ = false, corrupt_ = false, synced_ = false;
  std::uint64_t small_ = 0, seed_ = 1;
  AlignedBuffer content_, readback_;
  std::string failure_;
};

core::BenchmarkSpec md_spec(Phase p) {
  using core::ParamType;
  const PhaseInfo pi = info(p);
  return {fmt::format("io.posix.{}", pi.name),
          "io",
          "posix",
          fmt::format("mdtest-style metadata rate: {} ({})", pi.call, pi.mdtest),
          {path_param(),
           tier_param(),
           {"files", ParamType::integer, "1000", "files per rank (mdtest -n)", {}, 1.0, std::nullopt},
           {"depth", ParamType::integer, "0", "levels of nested directories; the files are in the deepest (mdtest -z)",
            {}, 0.0, 64.0},
           {"shared_dir", ParamType::boolean, "true",
            "true: all ranks in one directory (mdtest's default); false: a directory per rank (mdtest -u)", {},
            std::nullopt, std::nullopt},
           {"small_bytes", ParamType::size, pi.small_default,
            "bytes written to each file at creation and read by md_read (mdtest -w / -e)", {}, 0.0, std::nullopt},
           {"seed", ParamType::integer, "1", "seed of the data pattern", {}, 0.0, std::nullopt}},
          {{"rate", "1/s", core::MetricKind::rate, core::Quantity::items, core::Direction::higher_is_better}},
          [p] { return std::make_unique<Metadata>(p); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(posix_md_create, md_spec(Phase::create));
CONVERGE_REGISTER_BENCHMARK(posix_md_stat, md_spec(Phase::stat));
CONVERGE_REGISTER_BENCHMARK(posix_md_open_close, md_spec(Phase::open_close));
CONVERGE_REGISTER_BENCHMARK(posix_md_read, md_spec(Phase::read));
CONVERGE_REGISTER_BENCHMARK(posix_md_remove, md_spec(Phase::remove));

}  // namespace converge::io::posix
