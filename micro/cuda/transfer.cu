// micro.gpu_transfer.{h2d,d2h,d2d,p2p}: copy bandwidth of cudaMemcpyAsync (cudaMemcpyPeerAsync
// for p2p) of `size` bytes on the benchmark's stream: host to device and back (pinned or
// pageable host memory), within one device, and to a peer device. The source holds a seeded
// pattern, the destination its complement; every byte is checked after the timed copies.
#include <cuda_runtime.h>

#include <memory>
#include <vector>

#include "core/cuda/device_memory.hpp"
#include "micro/cuda/cuda_common.hpp"
#include "micro/cuda/transfer_common.hpp"

namespace converge::micro::cuda {
namespace {

using T = TransferKind;

__global__ void fill_kernel(std::uint64_t* p, std::uint64_t words, std::uint64_t seed, bool complement) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < words;
       i += std::uint64_t(gridDim.x) * blockDim.x)
    transfer_fill(p + i, i, 1, seed, complement);
}

/// Host memory of h2d and d2h: pinned (cudaMallocHost) or pageable (new[], touched by the fill).
struct HostWords {
  ccuda::PinnedBuffer<std::uint64_t> pinned;
  std::unique_ptr<std::uint64_t[]> pageable;
  std::uint64_t* data() const { return pageable ? pageable.get() : pinned.data(); }
};

class Transfer final : public CudaBenchmark {
 public:
  explicit Transfer(T k) : k_(k) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context&) override {
    if (auto st = open_device(params); st.kind != core::SetupStatus::Kind::ok) return st;
    device_ = gpu().index;
    size_ = params.size("size");
    seed_ = std::uint64_t(params.integer("seed"));
    const std::uint64_t words = transfer_words(size_);
    if (k_ == T::p2p) {
      if (auto st = open_peer(params); st.kind != core::SetupStatus::Kind::ok) return st;
    }
    if (k_ == T::h2d || k_ == T::d2h) {
      pageable_ = params.text("memory") == "pageable";
      if (pageable_) host_.pageable.reset(new std::uint64_t[words]);
      else host_.pinned = ccuda::PinnedBuffer<std::uint64_t>(words);
      transfer_fill(host_.data(), 0, words, seed_, k_ == T::d2h);  // writes (touches) every page
    }
    if (k_ != T::h2d) src_buf_ = filled(device_, words, false);
    if (k_ != T::d2h) dst_buf_ = filled(k_ == T::p2p ? peer_ : device_, words, true);
    src_ = k_ == T::h2d ? host_.data() : src_buf_.data();
    dst_ = k_ == T::d2h ? host_.data() : dst_buf_.data();
    ready_ = true;
    return core::SetupStatus::ok();
  }

  void run() override {
    if (k_ == T::p2p) {
      CONVERGE_CUDA_CHECK(cudaMemcpyPeerAsync(dst_, peer_, src_, device_, size_, stream()));
      return;
    }
    const cudaMemcpyKind kind = k_ == T::h2d   ? cudaMemcpyHostToDevice
                                : k_ == T::d2h ? cudaMemcpyDeviceToHost
                                               : cudaMemcpyDeviceToDevice;
    CONVERGE_CUDA_CHECK(cudaMemcpyAsync(dst_, src_, size_, kind, stream()));
  }

  /// Every byte of the destination (device destinations copied back in 64 MiB chunks).
  core::Verification verify() override {
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));  // cudaMemcpy does not wait for a non-blocking stream
    const std::uint64_t words = transfer_words(size_);
    TransferCheck acc;
    if (k_ == T::d2h) {
      transfer_check(host_.data(), 0, words, size_, seed_, acc);
    } else {
      const std::uint64_t chunk = std::min<std::uint64_t>(words, std::uint64_t(1) << 23);
      std::vector<std::uint64_t> buf(chunk);
      for (std::uint64_t first = 0; first < words; first += chunk) {
        const std::uint64_t count = std::min(chunk, words - first);
        CONVERGE_CUDA_CHECK(cudaMemcpy(buf.data(), dst_buf_.data() + first, count * 8, cudaMemcpyDefault));
        transfer_check(buf.data(), first, count, size_, seed_, acc);
      }
    }
    const std::string where = k_ == T::d2h   ? std::string(pageable_ ? "pageable" : "pinned") + " host destination"
                              : k_ == T::p2p ? "destination on peer device " + std::to_string(peer_)
                                             : "device destination";
    return transfer_verification(acc, size_, where);
  }

  void teardown() override {
    if (k_ == T::p2p && peer_ >= 0) {  // peer memory and peer access are released on their device
      CONVERGE_CUDA_CHECK(cudaSetDevice(peer_));
      dst_buf_ = {};
      if (enabled_back_) CONVERGE_CUDA_CHECK(cudaDeviceDisablePeerAccess(device_));
      CONVERGE_CUDA_CHECK(cudaSetDevice(device_));
      if (enabled_fwd_) CONVERGE_CUDA_CHECK(cudaDeviceDisablePeerAccess(peer_));
      enabled_fwd_ = enabled_back_ = false;
    }
    src_buf_ = {};
    dst_buf_ = {};
    host_ = {};
  }

  core::WorkModel work() const override { return transfer_work(k_, size_); }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    if (k_ == T::d2d) return device_peak("gpu.mem_bw", ctx);
    return std::nullopt;  // no link (PCIe/NVLink generation, width) is in the inventory
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    if (!ready_) return {};  // setup skipped or failed
    std::map<std::string, std::string> n = {{"pci_bus_id", gpu().pci_bus_id}};
    n["bytes_counted"] = k_ == T::d2d ? "2 x size (read + write of device memory, as NVIDIA's bandwidthTest counts D2D)"
                                      : "size (one direction)";
    n["copy"] = k_ == T::p2p ? "cudaMemcpyPeerAsync from device " + std::to_string(device_) + " to device " +
                                   std::to_string(peer_) + " on the benchmark's stream"
                             : std::string("cudaMemcpyAsync ") + to_string(k_) + " on the benchmark's stream";
    if (k_ != T::d2d) n["peak"] = "none modelled: the PCIe/NVLink generation and width are not in the inventory";
    if (k_ == T::h2d || k_ == T::d2h)
      n["memory"] = pageable_ ? "pageable (new[], every page touched before timing): the driver stages the copy "
                                "through its own pinned buffers, and cudaMemcpyAsync on pageable memory is "
                                "synchronous with respect to the host"
                              : "pinned (cudaMallocHost)";
    if (k_ == T::p2p) {
      n["peer"] = std::to_string(peer_);
      n["peer_device"] = peer_gpu_.name;
      n["peer_pci_bus_id"] = peer_gpu_.pci_bus_id;
      n["peer_access"] = access_fwd_ && access_back_ ? "yes (cudaDeviceEnablePeerAccess both ways)"
                         : access_fwd_               ? "yes, device to peer only"
                                                     : "no (cudaDeviceCanAccessPeer = 0: staged through host memory)";
    }
    return n;
  }

 private:
  /// `words` of device memory on device `dev`, filled with the pattern (or its complement).
  ccuda::DeviceBuffer<std::uint64_t> filled(int dev, std::uint64_t words, bool complement) {
    CONVERGE_CUDA_CHECK(cudaSetDevice(dev));
    ccuda::DeviceBuffer<std::uint64_t> buf(words);
    const unsigned blocks = unsigned(std::min<std::uint64_t>((words + 255) / 256, 65536));
    fill_kernel<<<blocks, 256>>>(buf.data(), words, seed_, complement);  // dev's default stream
    CONVERGE_CUDA_CHECK(cudaGetLastError());
    CONVERGE_CUDA_CHECK(cudaDeviceSynchronize());
    CONVERGE_CUDA_CHECK(cudaSetDevice(device_));
    return buf;
  }

  /// Resolves `peer`, skips with fewer than 2 devices, enables peer access where possible.
  core::SetupStatus open_peer(core::ParamValues& params) {
    int count = 0;
    CONVERGE_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (count < 2) return core::SetupStatus::skip("p2p needs 2 CUDA devices; " + std::to_string(count) + " visible");
    if (params.is_auto("peer")) {
      peer_ = (device_ + 1) % count;
    } else {
      const auto p = ccuda::resolve_device(params.text("peer"), 0);
      if (!p) return core::SetupStatus::fail(p.error());
      peer_ = *p;
    }
    if (peer_ == device_) return core::SetupStatus::fail("peer is device " + std::to_string(device_) + " itself");
    params.resolve("peer", std::to_string(peer_));
    peer_gpu_ = ccuda::gpu_inventory(peer_);
    int fwd = 0, back = 0;
    CONVERGE_CUDA_CHECK(cudaDeviceCanAccessPeer(&fwd, device_, peer_));
    CONVERGE_CUDA_CHECK(cudaDeviceCanAccessPeer(&back, peer_, device_));
    access_fwd_ = fwd != 0, access_back_ = back != 0;
    if (access_back_) enabled_back_ = enable_peer(peer_, device_);
    if (access_fwd_) enabled_fwd_ = enable_peer(device_, peer_);  // leaves device_ current
    CONVERGE_CUDA_CHECK(cudaSetDevice(device_));
    return core::SetupStatus::ok();
  }

  /// Enables access from `from` to `to`; false when it was already on (then not ours to undo).
  static bool enable_peer(int from, int to) {
    CONVERGE_CUDA_CHECK(cudaSetDevice(from));
    const cudaError_t e = cudaDeviceEnablePeerAccess(to, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled) {
      (void)cudaGetLastError();  // clear it: the event timer checks cudaGetLastError()
      return false;
    }
    CONVERGE_CUDA_CHECK(e);
    return true;
  }

  T k_;
  int device_ = 0, peer_ = -1;
  std::uint64_t size_ = 0, seed_ = 0;
  bool ready_ = false, pageable_ = false;
  bool access_fwd_ = false, access_back_ = false, enabled_fwd_ = false, enabled_back_ = false;
  core::GpuInventory peer_gpu_;
  HostWords host_;
  ccuda::DeviceBuffer<std::uint64_t> src_buf_, dst_buf_;
  void* src_ = nullptr;
  void* dst_ = nullptr;
};

core::BenchmarkSpec spec(T k, std::string summary) {
  std::vector<core::ParamSpec> params = {
      {"size", core::ParamType::size, "256MiB", "bytes per copy (suites sweep 4KiB..1GiB by factors of 4)", {}, 1.0,
       std::nullopt}};
  if (k == T::h2d || k == T::d2h)
    params.push_back({"memory", core::ParamType::choice, "pinned",
                      "host memory: pinned (cudaMallocHost) or pageable (ordinary, touched)", {"pinned", "pageable"},
                      std::nullopt, std::nullopt});
  if (k == T::p2p)
    params.push_back({"peer", core::ParamType::string, "auto",
                      "destination device: index, UUID or UUID prefix (auto = the next device after `device`)", {},
                      std::nullopt, std::nullopt});
  params.push_back({"seed", core::ParamType::integer, "42", "seed of the source pattern", {}, 0.0, std::nullopt});
  params.push_back(device_param());
  return {std::string("micro.gpu_transfer.") + to_string(k), "micro", "cuda", std::move(summary), std::move(params),
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better}},
          [k] { return std::make_unique<Transfer>(k); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gpu_transfer_h2d, spec(T::h2d, "host to device copy (cudaMemcpyAsync)"));
CONVERGE_REGISTER_BENCHMARK(gpu_transfer_d2h, spec(T::d2h, "device to host copy (cudaMemcpyAsync)"));
CONVERGE_REGISTER_BENCHMARK(gpu_transfer_d2d, spec(T::d2d, "copy within one device (cudaMemcpyAsync), 2 x size"));
CONVERGE_REGISTER_BENCHMARK(gpu_transfer_p2p, spec(T::p2p, "copy to a peer device (cudaMemcpyPeerAsync)"));

}  // namespace converge::micro::cuda
