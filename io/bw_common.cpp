#include "io/bw_common.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "core/filesystem.hpp"
#include "core/group.hpp"
#include "core/units.hpp"
#ifdef CONVERGE_IO_MPI
#include "core/mpi/mpi_group.hpp"
#endif

namespace converge::io::bw {

Layout layout_from(const std::string& name) {
  if (name == "fpp") return Layout::fpp;
  if (name == "shared_segmented") return Layout::shared_segmented;
  if (name == "shared_strided") return Layout::shared_strided;
  throw std::invalid_argument("layout must be fpp, shared_segmented or shared_strided, not " + name);
}
const char* layout_name(Layout l) {
  return l == Layout::fpp ? "fpp" : l == Layout::shared_segmented ? "shared_segmented" : "shared_strided";
}

Readback readback_from(const std::string& name) {
  if (name == "reorder") return Readback::reorder;
  if (name == "fadvise") return Readback::fadvise;
  if (name == "direct") return Readback::direct;
  if (name == "none") return Readback::none;
  throw std::invalid_argument("readback must be auto, reorder, fadvise, direct or none, not " + name);
}
const char* readback_name(Readback r) {
  switch (r) {
    case Readback::reorder: return "reorder";
    case Readback::fadvise: return "fadvise";
    case Readback::direct: return "direct";
    case Readback::none: break;
  }
  return "none";
}
Readback auto_readback(int ranks, int nodes) { return ranks > 1 && nodes > 1 ? Readback::reorder : Readback::fadvise; }

std::string check_geometry(std::uint64_t transfer, std::uint64_t block, bool direct) {
  if (transfer == 0 || transfer % 8 != 0)
    return fmt::format("transfer must be a positive multiple of 8 bytes (the pattern's word), not {}", transfer);
  if (block == 0 || block % transfer != 0)
    return fmt::format("block ({} B) must be a positive multiple of transfer ({} B)", block, transfer);
  if (direct && transfer % 4096 != 0)
    return fmt::format("direct=true needs transfer to be a multiple of 4096 B (O_DIRECT alignment), not {} B", transfer);
  return "";
}

std::uint64_t transfers_per_rank(const Geometry& g) { return g.block / g.transfer; }
std::uint64_t file_size(const Geometry& g) { return g.layout == Layout::fpp ? g.block : job_bytes(g); }
std::uint64_t job_bytes(const Geometry& g) { return g.block * std::uint64_t(g.ranks); }
std::string file_name(Layout l, int writer) { return l == Layout::fpp ? fmt::format("f.{}", writer) : "shared"; }
std::uint64_t file_id(Layout l, int writer) { return l == Layout::fpp ? std::uint64_t(writer) : 0; }

std::uint64_t transfer_offset(const Geometry& g, int writer, std::uint64_t t) {
  const auto w = std::uint64_t(writer);
  switch (g.layout) {
    case Layout::fpp: return t * g.transfer;
    case Layout::shared_segmented: return w * g.block + t * g.transfer;
    case Layout::shared_strided: break;
  }
  return (t * std::uint64_t(g.ranks) + w) * g.transfer;
}

std::vector<Range> rank_ranges(const Geometry& g, int writer) {
  if (g.layout != Layout::shared_strided || g.ranks == 1) return {{transfer_offset(g, writer, 0), g.block}};
  std::vector<Range> out;
  for (std::uint64_t t = 0; t < transfers_per_rank(g); ++t) out.push_back({transfer_offset(g, writer, t), g.transfer});
  return out;
}

int reorder_source(int reader, int ranks, int ranks_per_node) { return (reader + ranks_per_node) % ranks; }

core::WorkModel bw_work(const Geometry& g) {
  core::WorkModel w;
  w.bytes = double(job_bytes(g));
  w.items = double(transfers_per_rank(g)) * g.ranks;
  return w;
}

std::uint64_t resident_bytes(const std::vector<unsigned char>& pages, std::uint64_t page_size, const Range& r) {
  if (r.length == 0) return 0;
  const std::uint64_t end = r.offset + r.length;
  std::uint64_t total = 0;
  for (std::uint64_t p = r.offset / page_size; p <= (end - 1) / page_size && p < pages.size(); ++p)
    if (pages[p] & 1) total += std::min(end, (p + 1) * page_size) - std::max(r.offset, p * page_size);
  return total;
}

std::vector<core::ParamSpec> bw_params(bool read, Backend backend) {
  using core::ParamType;
  const bool mpiio = backend == Backend::mpiio;
  std::vector<core::ParamSpec> p = {
      {"path", ParamType::string, "auto",
       "tier directory the benchmark's own directory goes under (auto: $CONVERGE_IO_DIR, else $TMPDIR, else /tmp; "
       "recorded as its real path)", {}, std::nullopt, std::nullopt},
      {"tier", ParamType::string, "", "the tier's name, recorded in results (the driver sets it from the site config)",
       {}, std::nullopt, std::nullopt},
      {"layout", ParamType::choice, "fpp",
       "fpp: a file per rank; shared_segmented: one file, rank r owns [r*block, (r+1)*block); shared_strided: one "
       "file, transfer t of rank r at (t*ranks + r)*transfer",
       {"fpp", "shared_segmented", "shared_strided"}, std::nullopt, std::nullopt},
      {"transfer", ParamType::size, "1MiB",
       mpiio ? "bytes per read/write call (IOR -t): a multiple of 8, below 2 GiB (an MPI count)"
             : "bytes per read/write call (IOR -t): a multiple of 8, of 4096 with direct",
       {}, 8.0, std::nullopt},
      {"block", ParamType::size, "64MiB", "bytes per rank (IOR -b): a multiple of transfer", {}, 8.0, std::nullopt},
      {"hugepages", ParamType::boolean, "true",
       std::string("the ") + (read ? "buffer the calls read into" : "buffer the calls write from") +
           " (one transfer) in 2 MiB transparent huge pages (madvise MADV_HUGEPAGE; fio --iomem=shmhuge), so an "
           "O_DIRECT call's physical pieces do not depend on what the process allocated before; false: 4 KiB pages "
           "(MADV_NOHUGEPAGE), as fio's and IOR's default malloc; the pages obtained are in notes.buffer",
       {}, std::nullopt, std::nullopt},
  };
  if (mpiio) {
    p.push_back({"collective", ParamType::boolean, "false",
                 "collective MPI_File_write_at_all/read_at_all (IOR -c) instead of independent MPI_File_write_at/read_at",
                 {}, std::nullopt, std::nullopt});
    p.push_back({"hints", ParamType::string, "",
                 "MPI_Info hints for MPI_File_open, key=value[,key=value...] (e.g. romio_cb_write=enable,cb_nodes=2, "
                 "striping_factor=8); the hints in effect are recorded in the notes",
                 {}, std::nullopt, std::nullopt});
  } else {
    p.push_back({"direct", ParamType::boolean, "false", "O_DIRECT reads and writes (4096-aligned buffers and transfers)",
                 {}, std::nullopt, std::nullopt});
  }
  if (read)
    p.push_back({"readback", ParamType::choice, "auto",
                 std::string("how reads avoid the page cache: reorder (read another node's rank's data, IOR -C), fadvise "
                             "(POSIX_FADV_DONTNEED before each repetition), ") +
                     (mpiio ? "" : "direct (O_DIRECT reads), ") +
                     "none (auto: reorder with ranks on more than one node, else fadvise)",
                 mpiio ? std::vector<std::string>{"reorder", "fadvise", "none"}
                       : std::vector<std::string>{"reorder", "fadvise", "direct", "none"},
                 std::nullopt, std::nullopt});
  else
    p.push_back({"fsync", ParamType::boolean, "true",
                 mpiio ? "MPI_File_sync at the end of the write phase, inside the timed region (IOR -e)"
                       : "fsync at the end of the write phase, inside the timed region (IOR -e)",
                 {}, std::nullopt, std::nullopt});
  p.push_back({"seed", ParamType::integer, "42", "seed of the data pattern", {}, 0.0, std::nullopt});
  return p;
}

std::vector<core::MetricSpec> bw_metrics() {
  using core::MetricKind, core::Quantity, core::Direction;
  return {{"bandwidth", "B/s", MetricKind::rate, Quantity::bytes, Direction::higher_is_better},
          {"ops", "1/s", MetricKind::rate, Quantity::items, Direction::higher_is_better}};
}

std::unique_ptr<core::Mapping> io_buffer(std::uint64_t bytes, bool huge) {
  try {
    return std::make_unique<core::Mapping>(std::size_t(bytes), huge);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

namespace {

// Rank 0's string on every rank.
void broadcast_string([[maybe_unused]] std::string& s) {
#ifdef CONVERGE_IO_MPI
  int n = int(s.size());
  CONVERGE_MPI_CHECK(MPI_Bcast(&n, 1, MPI_INT, 0, MPI_COMM_WORLD));
  s.resize(std::size_t(n));
  CONVERGE_MPI_CHECK(MPI_Bcast(s.data(), n, MPI_CHAR, 0, MPI_COMM_WORLD));
#endif
}

// Nodes in the launch, and ranks on rank 0's node (IOR's tasks per node, for -C's shift).
std::string node_shape(core::Group* group, int rank, int& nodes, int& per_node) {
  nodes = per_node = 1;
  if (group == nullptr) return "";
#ifdef CONVERGE_IO_MPI
  if (dynamic_cast<core::mpi::WorldGroup*>(group) == nullptr) return "several ranks need the MPI worker's ranks";
  MPI_Comm local;
  CONVERGE_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local));
  int local_rank = 0, local_size = 1;
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_size(local, &local_size);
  MPI_Comm_free(&local);
  int leader = local_rank == 0 ? 1 : 0;
  CONVERGE_MPI_CHECK(MPI_Allreduce(&leader, &nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
  per_node = local_size;
  CONVERGE_MPI_CHECK(MPI_Bcast(&per_node, 1, MPI_INT, 0, MPI_COMM_WORLD));
  return "";
#else
  (void)rank;
  return "several ranks need the MPI worker (built without MPI)";
#endif
}

std::string layout_text(const Geometry& g) {
  switch (g.layout) {
    case Layout::fpp: return "fpp: one file per rank (f.<rank>), rank r's block at [0, block)";
    case Layout::shared_segmented: return "shared_segmented: one file (shared), rank r owns [r*block, (r+1)*block)";
    case Layout::shared_strided: break;
  }
  return fmt::format("shared_strided: one file (shared), transfer t of rank r at (t*{} + r)*{}", g.ranks, g.transfer);
}

}  // namespace

BandwidthBenchmark::~BandwidthBenchmark() = default;

std::string BandwidthBenchmark::agree(const std::string& local) {
  return group_ != nullptr ? group_->first_message(local) : local;
}

double BandwidthBenchmark::group_max(double v) {
  if (group_ == nullptr) return v;
  std::vector<double> x = {v};
  group_->max(x);
  return x[0];
}

void BandwidthBenchmark::release(bool in_step) {
  active_ = false;
  if (!in_step || group_ == nullptr) return scratch_.reset();
  // The creator removes the directory last, once every rank has removed what it created.
  if (rank_ != 0) scratch_.reset();
  group_->barrier();
  scratch_.reset();
}

core::SetupStatus BandwidthBenchmark::stop(const std::string& mine) {
  release(true);
  return mine.empty() ? core::SetupStatus::ok() : core::SetupStatus::fail(mine);
}

void BandwidthBenchmark::teardown() { release(active_ && verified_); }

void BandwidthBenchmark::record(const std::string& error) {
  if (error.empty()) return;
  if (group_ == nullptr) throw std::runtime_error(error);
  if (pending_.empty()) pending_ = error;
}

void BandwidthBenchmark::settle(const std::string& local_error) {
  const std::string e = agree(local_error);
  if (e.empty()) return;
  release(true);
  throw core::GroupFailure(e);  // every rank throws it: the harness reports it, nobody aborts
}

core::SetupStatus BandwidthBenchmark::open(core::ParamValues& params, const core::Context& ctx, bool read) {
  group_ = ctx.group != nullptr && ctx.group->size() > 1 ? ctx.group : nullptr;
  g_.ranks = group_ != nullptr ? group_->size() : 1;
  rank_ = group_ != nullptr ? group_->rank() : 0;
  g_.layout = layout_from(params.text("layout"));
  g_.transfer = params.size("transfer");
  g_.block = params.size("block");
  const bool mpiio = backend_ == Backend::mpiio;
  direct_ = !mpiio && params.boolean("direct");
  collective_ = mpiio && params.boolean("collective");
  hints_ = mpiio ? params.text("hints") : "";
  fsync_ = read || params.boolean("fsync");
  seed_ = std::uint64_t(params.integer("seed"));
  corrupt_ = [] { const char* v = std::getenv("CONVERGE_TEST_CORRUPT_IO"); return v != nullptr && std::string(v) == "1"; }();

  std::string err = check_geometry(g_.transfer, g_.block, direct_);
  if (err.empty() && mpiio && g_.transfer > std::uint64_t(INT_MAX))
    err = fmt::format("with MPI-IO, transfer ({} B) must be below 2 GiB: it is one call's MPI count", g_.transfer);
  const std::string given = core::io_directory(params.text("path"), std::getenv("CONVERGE_IO_DIR"), std::getenv("TMPDIR"));
  std::string tier = given;
  if (err.empty()) {
    if (char* real = ::realpath(given.c_str(), nullptr)) tier = real, std::free(real);
    else err = io_error(errno, "resolving the tier path " + given);
  }
  params.resolve("path", tier);
  if (err.empty()) err = node_shape(group_, rank_, nodes_, per_node_);
  hugepages_ = params.boolean("hugepages");
  if (err.empty() && (!(tbuf_ = io_buffer(g_.transfer, hugepages_)) || !(pbuf_ = io_buffer(g_.transfer, hugepages_))))
    err = "cannot allocate the transfer buffers";
  if (err.empty()) {  // the pattern's random words once; each write call stamps its sectors (pattern_for)
    period_ = g_.transfer % kPatternSector == 0 ? g_.transfer : kPatternPeriod;
    fill_pattern(pbuf_->data(), g_.transfer, seed_, file_id(g_.layout, rank_), 0, period_);
  }
  if (!agree(err).empty()) return stop(err);

  // Rank 0 creates the directory, checking that the whole job's data fits; the others join it.
  const auto fs = filesystem_of(tier);
  notes_["filesystem"] = fmt::format("{} on {} ({}; {})", fs.type, fs.mount_point, fs.source, fs.options);
  if (rank_ == 0) {
    if (auto space = space_of(tier))
      notes_["space"] = fmt::format("{} available before the run ({} B)", core::format_bytes(space->available_bytes),
                                    space->available_bytes);
    const std::uint64_t files = g_.layout == Layout::fpp ? std::uint64_t(g_.ranks) : 1;
    auto s = Scratch::create(tier, job_bytes(g_), files + 16);
    if (s) scratch_ = std::move(*s);
    else err = s.error();
  }
  if (err.empty()) err = fill_for_test();
  if (!agree(err).empty()) return stop(err);
  std::string dir = rank_ == 0 ? scratch_->path() : "";
  broadcast_string(dir);
  if (rank_ != 0) {
    auto s = Scratch::join(dir);
    if (s) scratch_ = std::move(*s);
    else err = s.error() + " (the tier path must be one directory every rank sees)";
  }
  if (!agree(err).empty()) return stop(err);
  notes_["scratch"] = dir;

  // Files are created empty here; a test open with the benchmark's flags finds a filesystem
  // without O_DIRECT before anything is timed.
  if (g_.layout == Layout::fpp || rank_ == 0) {
    auto fd = scratch_->create_file(file_name(g_.layout, rank_), O_WRONLY);
    if (fd) ::close(*fd);
    else err = fd.error();
  }
  if (!agree(err).empty()) return stop(err);
  if (auto fd = scratch_->open_file(file_name(g_.layout, rank_), O_WRONLY | (direct_ ? O_DIRECT : 0))) {
    ::close(*fd);
  } else {
    err = fd.error() + (direct_ ? " (with O_DIRECT: this filesystem may not support it; try direct=false)" : "");
  }
  if (!agree(err).empty()) return stop(err);
#ifdef CONVERGE_IO_MPI
  if (mpiio) err = mpiio_setup();  // collective: a test open with the hints, the notes
  if (!agree(err).empty()) return stop(err);
#endif

  active_ = true;
  notes_["layout"] = layout_text(g_);
  notes_["ranks"] = group_ == nullptr ? "1 (one process)"
                                      : fmt::format("{} on {} node{} ({} on rank 0's node)", g_.ranks, nodes_,
                                                    nodes_ == 1 ? "" : "s", per_node_);
  if (!mpiio) notes_["direct"] = direct_ ? "O_DIRECT (4096-aligned buffers)" : "buffered (page cache)";
  return core::SetupStatus::ok();
}

std::string BandwidthBenchmark::truncate_own() {
  if (g_.layout != Layout::fpp && rank_ != 0) return "";
  const std::string name = file_name(g_.layout, rank_);
  auto fd = scratch_->open_file(name, O_WRONLY);
  if (!fd) return fd.error();
  std::string err;
  if (::ftruncate(*fd, 0) != 0) err = io_error(errno, "truncating " + scratch_->path() + "/" + name);
  ::close(*fd);
  return err;
}

std::string BandwidthBenchmark::write_block(bool sync) {
#ifdef CONVERGE_IO_MPI
  if (backend_ == Backend::mpiio) return mpiio_write_block(sync);
#endif
  const std::string name = file_name(g_.layout, rank_);
  auto fd = scratch_->open_file(name, O_WRONLY | (direct_ ? O_DIRECT : 0));
  if (!fd) return fd.error();
  const std::string what = "writing " + scratch_->path() + "/" + name;
  const std::uint64_t id = file_id(g_.layout, rank_);
  std::string err;
  for (std::uint64_t t = 0; t < transfers_per_rank(g_) && err.empty(); ++t) {
    const std::uint64_t at = transfer_offset(g_, rank_, t);
    const unsigned char* data = pattern_for(id, at);
    if (auto w = write_all(*fd, data, g_.transfer, off_t(at), what); !w) err = w.error();
  }
  if (err.empty() && sync && ::fsync(*fd) != 0) err = io_error(errno, "fsync " + scratch_->path() + "/" + name);
  if (::close(*fd) != 0 && err.empty()) err = io_error(errno, "closing " + scratch_->path() + "/" + name);
  return err;
}

const unsigned char* BandwidthBenchmark::pattern_for(std::uint64_t id, std::uint64_t at) {
  if (g_.transfer % kPatternSector == 0) stamp_pattern(pbuf_->data(), g_.transfer, seed_, id, at);
  else fill_pattern(pbuf_->data(), g_.transfer, seed_, id, at, period_);
  return pbuf_->data();
}

std::string BandwidthBenchmark::buffer_text(bool write) const {
  if (!write) return "one transfer buffer per rank, every call reads into it: " + tbuf_->note();
  const std::string calls =
      g_.transfer % kPatternSector == 0
          ? fmt::format("filled with the pattern once in setup; before each call, {} words (its 512-byte sectors' "
                        "stamps of file and offset, as fio's scramble_buffers) are rewritten in the timed region",
                        (g_.transfer + kPatternSector - 1) / kPatternSector)
          : "the whole pattern is computed before each call, in the timed region (transfer is not a multiple of 512 "
            "bytes)";
  return "one transfer buffer per rank, every call writes from it, " + calls + ": " + pbuf_->note();
}

std::string BandwidthBenchmark::read_block(int source, bool odirect) {
#ifdef CONVERGE_IO_MPI
  if (backend_ == Backend::mpiio) return mpiio_read_block(source);
#endif
  const std::string name = file_name(g_.layout, source);
  auto fd = scratch_->open_file(name, O_RDONLY | (odirect ? O_DIRECT : 0));
  if (!fd) return fd.error();
  const std::string what = "reading " + scratch_->path() + "/" + name;
  std::string err;
  for (std::uint64_t t = 0; t < transfers_per_rank(g_) && err.empty(); ++t)
    if (auto r = read_all(*fd, tbuf_->data(), g_.transfer, off_t(transfer_offset(g_, source, t)), what); !r)
      err = r.error();
  ::close(*fd);
  return err;
}

std::string BandwidthBenchmark::calls_text(bool write, int source, bool odirect) const {
  const std::string file = g_.layout == Layout::fpp ? (write ? "f.<rank>" : file_name(g_.layout, source)) : "shared";
  const std::string size = core::format_bytes(g_.transfer);
  const auto n = transfers_per_rank(g_);
  if (backend_ == Backend::mpiio)
    return fmt::format("MPI_File_open {} (on {}, {}), {} {} calls of {}, {}MPI_File_close", file,
                       g_.layout == Layout::fpp || group_ == nullptr ? "MPI_COMM_SELF" : "MPI_COMM_WORLD",
                       write ? "MPI_MODE_WRONLY" : "MPI_MODE_RDONLY", n,
                       std::string(write ? "MPI_File_write_at" : "MPI_File_read_at") + (collective_ ? "_all" : ""), size,
                       write && fsync_ ? "MPI_File_sync, " : "");
  return fmt::format("open {} ({}{}), {} {} calls of {}{}, {}close", file, write ? "O_WRONLY" : "O_RDONLY",
                     odirect ? " | O_DIRECT" : "", n, write ? "pwrite" : "pread", size,
                     write ? " from one pattern buffer (sector stamps rewritten before each)" : " into one buffer",
                     write && fsync_ ? "fsync, " : "");
}

std::string BandwidthBenchmark::drop_cache(int source) {
  const std::string path = scratch_->path() + "/" + file_name(g_.layout, source);
  auto fd = scratch_->open_file(file_name(g_.layout, source), O_RDONLY);
  if (!fd) return fd.error();
  std::string err;
  // Dirty pages cannot be dropped: fsync first. The whole file is dropped, so that pages a
  // rank's unaligned ranges share with a neighbour's go too.
  if (::fsync(*fd) != 0) err = io_error(errno, "fsync " + path);
  else if (int rc = ::posix_fadvise(*fd, 0, 0, POSIX_FADV_DONTNEED); rc != 0)
    err = io_error(rc, "posix_fadvise(DONTNEED) " + path);
  ::close(*fd);
  return err;
}

core::Expected<double> BandwidthBenchmark::resident_fraction(int source) {
  const std::string name = file_name(g_.layout, source);
  auto fd = scratch_->open_file(name, O_RDONLY);
  if (!fd) return core::make_error(fd.error());
  const std::uint64_t size = file_size(g_), page = std::uint64_t(::sysconf(_SC_PAGESIZE));
  void* map = ::mmap(nullptr, std::size_t(size), PROT_READ, MAP_SHARED, *fd, 0);
  const int map_errno = errno;
  ::close(*fd);
  if (map == MAP_FAILED) return core::make_error(io_error(map_errno, "mmap " + scratch_->path() + "/" + name));
  std::vector<unsigned char> pages(std::size_t((size + page - 1) / page));
  const int rc = ::mincore(map, std::size_t(size), pages.data());
  const int mincore_errno = errno;
  ::munmap(map, std::size_t(size));
  if (rc != 0) return core::make_error(io_error(mincore_errno, "mincore " + scratch_->path() + "/" + name));
  std::uint64_t resident = 0;
  for (const Range& r : rank_ranges(g_, source)) resident += resident_bytes(pages, page, r);
  return double(resident) / double(g_.block);
}

std::string BandwidthBenchmark::check_block(int source, bool odirect, std::string& mismatch) {
  if (auto e = drop_cache(source); !e.empty()) return e;
  const std::string name = file_name(g_.layout, source);
  auto fd = scratch_->open_file(name, O_RDONLY | (odirect ? O_DIRECT : 0));
  if (!fd) return fd.error();
  const std::string what = "reading back " + scratch_->path() + "/" + name;
  const std::uint64_t id = file_id(g_.layout, source);
  std::string err;
  for (std::uint64_t t = 0; t < transfers_per_rank(g_) && err.empty() && mismatch.empty(); ++t) {
    const std::uint64_t at = transfer_offset(g_, source, t);
    if (auto r = read_all(*fd, tbuf_->data(), g_.transfer, off_t(at), what); !r) err = r.error();
    else if (auto bad = check_pattern(tbuf_->data(), g_.transfer, seed_, id, at, period_); bad >= 0)
      mismatch = fmt::format("file {} (rank {}'s data), offset {}: the 8-byte word differs from the written pattern",
                             name, source, at + std::uint64_t(bad));
  }
  ::close(*fd);
  return err;
}

std::string BandwidthBenchmark::corrupt_for_test() {
  if (!corrupt_ || rank_ != 0) return "";
  const std::string name = file_name(g_.layout, 0);
  const std::uint64_t at = transfer_offset(g_, 0, transfers_per_rank(g_) / 2) + g_.transfer / 2 / 8 * 8;
  auto fd = scratch_->open_file(name, O_RDWR);
  if (!fd) return fd.error();
  std::uint64_t word = 0;
  std::string err;
  if (auto r = read_all(*fd, &word, 8, off_t(at), "fault injection: reading " + name); !r) err = r.error();
  word = ~word;
  if (err.empty())
    if (auto w = write_all(*fd, &word, 8, off_t(at), "fault injection: writing " + name); !w) err = w.error();
  if (err.empty() && ::fsync(*fd) != 0) err = io_error(errno, "fault injection: fsync " + name);
  ::close(*fd);
  notes_["fault_injection"] = fmt::format(
      "CONVERGE_TEST_CORRUPT_IO=1: rank 0 inverted the 8-byte word at offset {} of {} after the write phase "
      "(test-only)", at, name);
  return err;
}

std::string BandwidthBenchmark::fill_for_test() {
  const char* v = std::getenv("CONVERGE_TEST_FILL_TIER");
  if (v == nullptr || std::string(v) != "1" || rank_ != 0) return "";
  auto space = space_of(scratch_->path());
  if (!space) return space.error();
  constexpr std::uint64_t kLeft = 1 << 20;
  if (space->available_bytes <= kLeft) return "";
  auto fd = scratch_->create_file("filler", O_WRONLY);
  if (!fd) return fd.error();
  const int rc = ::posix_fallocate(*fd, 0, off_t(space->available_bytes - kLeft));
  ::close(*fd);
  if (rc != 0) return io_error(rc, "fault injection: filling the tier");
  notes_["fault_injection"] = fmt::format(
      "CONVERGE_TEST_FILL_TIER=1: after the space check, rank 0 allocated a file of {} B in the scratch directory, "
      "leaving 1 MiB free, as another writer filling the tier would (test-only)",
      space->available_bytes - kLeft);
  return "";
}

std::map<std::string, std::string> BandwidthBenchmark::notes() const { return notes_; }

}  // namespace converge::io::bw
