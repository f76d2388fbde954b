#include "runners/launch.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "runners/workers.hpp"

namespace converge::runners {

LaunchContext make_launch_context(const Partition& partition) {
  LaunchContext c;
  c.partition = &partition;
  c.nodes = partition.nodes;
  c.local_cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const char* job = std::getenv("SLURM_JOB_ID");
  switch (partition.launcher) {
    case LauncherKind::local: c.mode = "local"; break;
    case LauncherKind::mpirun: c.mode = "mpirun"; break;
    case LauncherKind::slurm:
      if (job != nullptr && *job != '\0') {
        c.mode = "srun";
        c.job_id = job;
        // Inside an allocation, screening covers the allocation's nodes.
        if (const char* n = std::getenv("SLURM_JOB_NUM_NODES"); n != nullptr && std::atoi(n) > 0) c.nodes = std::atoi(n);
      } else {
        c.mode = "sbatch";
      }
      break;
  }
  if (partition.launcher != LauncherKind::slurm) {
    const auto v = run_command({partition.mpirun.command, "--version"});
    c.open_mpi = v.out.find("Open MPI") != std::string::npos || v.out.find("OpenRTE") != std::string::npos;
  }
  if (partition.launcher == LauncherKind::mpirun && !partition.mpirun.hosts.empty())
    c.nodes = static_cast<int>(partition.mpirun.hosts.size());
  return c;
}

std::vector<std::string> srun_options(const Partition& p, int nodes, const PlannedInstance& inst) {
  std::vector<std::string> o;
  switch (inst.placement) {
    case Placement::one: o = {"--nodes=1", "--ntasks=1"}; break;
    case Placement::per_node: o = {fmt::format("--nodes={}", nodes), "--ntasks-per-node=1"}; break;
    case Placement::all:
      o = {fmt::format("--nodes={}", std::min(nodes, inst.ranks)), fmt::format("--ntasks={}", inst.ranks)};
      break;
  }
  if (p.cpus_per_task > 0) o.push_back(fmt::format("--cpus-per-task={}", p.cpus_per_task));
  if (p.gpus_per_node > 0) o.push_back(fmt::format("--gpus-per-node={}", p.gpus_per_node));
  if (!p.slurm.mpi.empty()) o.push_back("--mpi=" + p.slurm.mpi);  // how MPI ranks find each other
  o.push_back("--kill-on-bad-exit=1");
  return o;
}

std::vector<std::string> launch_prefix(const LaunchContext& c, const PlannedInstance& inst) {
  const Partition& p = *c.partition;
  if (c.mode == "srun") {
    std::vector<std::string> o = {"srun"};
    for (auto& x : srun_options(p, c.nodes, inst)) o.push_back(x);
    return o;
  }
  if (c.mode == "local" && inst.ranks == 1) return {};
  // mpirun: Open MPI refuses root without --allow-run-as-root, and more ranks than CPUs
  // without --oversubscribe; both are added where they apply and show in the plan.
  std::vector<std::string> o = {p.mpirun.command, "-np", std::to_string(inst.ranks)};
  if (c.open_mpi) {
    if (geteuid() == 0) o.push_back("--allow-run-as-root");
    if (p.mpirun.hosts.empty() && inst.ranks > c.local_cpus) o.push_back("--oversubscribe");
    for (const auto& [k, v] : p.variables) o.insert(o.end(), {"-x", k});
  }
  if (!p.mpirun.hosts.empty()) {
    std::string hosts;
    for (const auto& h : p.mpirun.hosts) hosts += (hosts.empty() ? "" : ",") + h;
    o.insert(o.end(), {"--host", hosts});
  }
  for (const auto& x : p.mpirun.options) o.push_back(x);
  return o;
}

std::string shell_quote(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=./:@%") ==
                        std::string::npos)
    return w;
  std::string out = "'";
  for (char ch : w) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(a);
  }
  return out;
}

std::vector<std::string> with_modules(const Partition& p, std::vector<std::string> argv) {
  if (p.modules.empty()) return argv;
  std::string load = "module load";
  for (const auto& m : p.modules) load.append(" ").append(shell_quote(m));
  std::vector<std::string> out = {"bash", "-lc", load + " && exec \"$@\"", "converge-env"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void apply_variables(const Partition& p) {
  for (const auto& [k, v] : p.variables) setenv(k.c_str(), v.c_str(), 1);
}

std::vector<std::string> loaded_modules() {
  std::vector<std::string> out;
  const char* m = std::getenv("LOADEDMODULES");
  if (m == nullptr) return out;
  std::stringstream ss(m);
  for (std::string x; std::getline(ss, x, ':');)
    if (!x.empty()) out.push_back(x);
  return out;
}

}  // namespace converge::runners
