# Helpers for the Slurm tests (sourced): the integration helpers, plus the test cluster that
# the slurm.cluster.start fixture started (tests/slurm/cluster.sh) and a site for it.
source "$(dirname "$0")/../integration/lib.sh"
SLURM_DIR=${SLURM_DIR:?directory of the test cluster}
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "SKIP: Slurm or munge not installed (scripts/install-deps.sh installs them)"; exit 77
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: the test cluster runs its daemons as root"; exit 77; }
eval "$(bash "$SRC/tests/slurm/cluster.sh" env "$SLURM_DIR")"
sinfo -h -o '%D %t' >/dev/null 2>&1 || fail "the test cluster under $SLURM_DIR is not running (slurm.cluster.start)"
export CONVERGE_SLURM_POLL_S=0.3
cd "$TMP"
cat >site.yaml <<'YAML'
name: testcluster
description: four slurmd on this machine (tests/slurm/cluster.sh)
partitions:
  - name: debug
    launcher: slurm
    slurm: {partition: debug, time: "10:00"}
    resources: {nodes: 4, tasks_per_node: 1, cpus_per_task: 1}
    environment:
      variables: {CONVERGE_TEST_MARK: from-site}
YAML
# job_state ID: the job's state as scontrol reports it
job_state() { scontrol show job -o "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
