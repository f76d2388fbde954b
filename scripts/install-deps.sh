#!/usr/bin/env bash
# Installs the Debian 12 packages converge builds and tests with, when any is missing.
# Runs as root (or through sudo). Safe to run again: it installs nothing already present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libfmt-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhwloc-dev hwloc libopenblas-dev
  likwid python3-jsonschema
  slurm-wlm slurmctld slurmd slurm-client munge
  openmpi-bin
)
# Optional extras: the reference tools the README's fidelity section runs (hpcc for StarSTREAM).
if [ "${CONVERGE_INSTALL_REFERENCE_TOOLS:-0}" = 1 ]; then packages+=(hpcc); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
