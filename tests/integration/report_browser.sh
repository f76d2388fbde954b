#!/usr/bin/env bash
# `converge report`: two real runs of a tiny suite, then the HTML report opened in a real headless
# Chromium (Debian's) with no network: every chart must render an SVG with marks and no error,
# and the page is kept as a screenshot (ARTIFACTS/report.png). Markdown and CSV hold the same
# results and the "not measured" energy reason. Then io on two storage tiers: the inventory
# describes both, and the rendered tier table has a figure in every cell. Exit 77 (skipped)
# only when Chromium is missing.
source "$(dirname "$0")/lib.sh"
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (scripts/install-deps.sh installs Debian's)"; exit 77; }
ARTIFACTS=${ARTIFACTS:-$TMP/artifacts}
mkdir -p "$ARTIFACTS"
cd "$TMP"
PY=/usr/bin/python3

cat > tiny.yaml <<'EOF'
name: report-tiny
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 0.2}
benchmarks:
  - benchmark: micro.stream.triad
    params: {n: [64k, 128k, 256k, 512k, 1M]}
  - benchmark: micro.gemm.dgemm
    params: {n: 128}
  - benchmark: micro.peakflops.fp64
EOF
expect_status 0 "$CONVERGE" run tiny.yaml --energy none --out docs/run1.json
expect_status 0 "$CONVERGE" run tiny.yaml --energy none --out docs/run2.json
run_id() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$1"; }
run1=$(run_id docs/run1.json)
run2=$(run_id docs/run2.json)
# The first run again, presented as another partition of the same suite (a document path, not
# in the store), so that the partition comparison is drawn too.
$PY - docs/run1.json docs/other.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["partition"] = "other"
d["run_id"] = d["run_id"][:-6] + "0ther0"
json.dump(d, open(sys.argv[2], "w"), indent=2)
EOF

# A site with reference figures for the acceptance section: one met, one not, one missing.
cat >site.yaml <<'YAML'
name: browser
partitions:
  - name: local
    reference:
      micro.stream.triad n=64k: {bandwidth: [1, -0.5, null, MB/s]}
      micro.gemm.dgemm: {flop_rate: [1, -0.1, 0.1, PFLOP/s]}
      micro.stream.copy: {bandwidth: [1, -0.1, null, GB/s]}
  - name: other
    reference:
      micro.stream.triad n=64k: {bandwidth: [1, -0.5, null, MB/s]}
YAML
# Runs by id (through this test's store) and by path; the baseline by an id prefix.
expect_status 0 "$CONVERGE" report "$run2" docs/other.json --baseline "${run1:0:20}" --site site.yaml --format html -o report.html
expect_output "written to report.html"
charts=$(grep -o "vegaEmbed('#[a-z0-9-]*'" report.html | sed "s/vegaEmbed('#//; s/'//" | tr '\n' ' ')
for want in roofline-1 roofline-2 sweep-1 partitions regression-1 regression-2 acceptance-1 acceptance-2; do
  [[ " $charts " == *" $want "* ]] || fail "report.html lacks chart $want (has: $charts)"
done
# The libraries are inlined whole (the start of each file as installed), not linked.
$PY - report.html "${CONVERGE_VEGA_DIR:-$SRC/report/node_modules}" <<'EOF' || fail "a charting library is not inlined"
import sys
html = open(sys.argv[1], encoding="utf-8").read()
for lib in ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"):
    head = open(f"{sys.argv[2]}/{lib}", encoding="utf-8").read()[:2000]
    if head not in html: sys.exit(f"{lib} is not inlined")
EOF
[ "$(grep -c '<script>' report.html)" = 4 ] || fail "expected the 3 inlined libraries and 1 chart script"
grep -q 'http' <(grep -o '<script src=[^>]*>' report.html) && fail "report.html loads a script from elsewhere"

# Headless Chromium, offline: no proxy that answers, no background fetches; virtual time lets
# the charts render before the DOM is dumped.
browser() {
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$TMP/chromium.XXXXXX")" --proxy-server=127.0.0.1:9 \
    --virtual-time-budget=10000 "$@" "file://$TMP/${PAGE:-report.html}" 2>>chromium.log
}
browser --dump-dom > dom.html || { tail -20 chromium.log >&2; fail "chromium --dump-dom failed"; }
$PY - dom.html $charts <<'EOF' || fail "a chart did not render (see above)"
import sys
from html.parser import HTMLParser

class Charts(HTMLParser):
    """Collects the inner markup of every <div class="chart..."> with an id."""
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.charts, self.classes, self.stack = {}, {}, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("id") and not self.stack and "chart" in (a.get("class") or ""):
            self.stack = [a["id"]]
            self.charts[a["id"]] = []
            self.classes[a["id"]] = a.get("class")
            return
        if self.stack:
            if tag == "div": self.stack.append(tag)
            self.charts[self.stack[0]].append(self.get_starttag_text())
    def handle_endtag(self, tag):
        if self.stack and tag == "div":
            self.stack.pop()
    def handle_data(self, data):
        if self.stack: self.charts[self.stack[0]].append(data)

p = Charts()
p.feed(open(sys.argv[1], encoding="utf-8").read())
bad = []
for cid in sys.argv[2:]:
    inner = "".join(p.charts.get(cid, []))
    if cid not in p.charts: bad.append(f"{cid}: no div")
    elif "chart-error" in p.classes[cid] or "chart error" in inner: bad.append(f"{cid}: {inner[:300]}")
    elif "<svg" not in inner: bad.append(f"{cid}: no <svg>")
    elif 'role="graphics-symbol"' not in inner and 'class="mark-' not in inner: bad.append(f"{cid}: an <svg> without marks")
    else:
        marks = inner.count('role="graphics-symbol"')
        print(f"{cid}: svg with {marks} marks")
for b in bad: print("FAIL", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
rm -f "$ARTIFACTS/report.png"
browser --screenshot="$ARTIFACTS/report.png" --window-size=1400,3000 >/dev/null || { tail -20 chromium.log >&2; fail "chromium --screenshot failed"; }
[ -f "$ARTIFACTS/report.png" ] || fail "no screenshot"
size=$(stat -c %s "$ARTIFACTS/report.png")
[ "$(head -c 8 "$ARTIFACTS/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "report.png is not a PNG"
[ "$size" -gt 20000 ] || fail "report.png is only $size bytes"

# The same tables in Markdown and CSV, with the energy reason.
for format in md csv; do
  expect_status 0 "$CONVERGE" report "$run2" --baseline "$run1" --format "$format"
  for text in micro.stream.triad micro.gemm.dgemm micro.peakflops.fp64 "not measured: no energy meter configured" \
              "$run2" "against baseline $run1"; do
    expect_output "$text"
  done
done
expect_output "micro.stream.triad,,n=64k threads="
# With the site: the acceptance table, as `converge check` computes it.
expect_status 0 "$CONVERGE" report "$run2" --site site.yaml --format md
expect_output "## acceptance: run $run2 against site browser"
expect_output "| micro.stream.triad n=64k | bandwidth |"
expect_output "| pass |"
expect_output "| fail |"
expect_output "| missing |"

# HTML without the libraries fails and says how to get them; Markdown still works.
CONVERGE_VEGA_DIR="$TMP/none" expect_status 1 "$CONVERGE" report "$run2" --format html -o x.html
expect_output "scripts/install-deps.sh"
[ ! -e x.html ] || fail "a report was written without the libraries"
CONVERGE_VEGA_DIR="$TMP/none" expect_status 0 "$CONVERGE" report "$run2" --format md
expect_status 1 "$CONVERGE" report no-such-run --format md
expect_status 2 "$CONVERGE" report "$run2" --format pdf

# Storage tiers: a tiny io suite on the two tiers of a site (directories of this disk), at 1
# rank and, with mpirun, at 2 (two runs), reported together. Each run's inventory describes
# both tiers; the tier table, as the browser parsed the page, has one column per tier with its
# kind and filesystem type, a figure with its CV in every cell, and a row per rank count.
tiers=""
if [ -x "$(dirname "$CONVERGE")/converge-worker-io" ]; then
  mkdir -p flash hdd
  cat > io-site.yaml <<YAML
name: tiers
partitions:
  - name: local
    launcher: local
    storage:
      - {name: flash, path: $TMP/flash, kind: flash}
      - {name: hdd, path: $TMP/hdd, kind: hdd}
YAML
  ranks="1"
  if command -v mpirun >/dev/null; then ranks="1 2"; fi
  io_docs=()
  for r in $ranks; do
    cat > io-$r.yaml <<YAML
name: io-tiers
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 0.3}
benchmarks:
  - {benchmark: io.posix.write, ranks: $r, params: {transfer: 256KiB, block: 1MiB}}
  - {benchmark: io.posix.md_create, ranks: $r, params: {files: 20}}
YAML
    expect_status 0 "$CONVERGE" run --site io-site.yaml --suite io-$r.yaml --energy none --out docs/io-$r.json
    $VALIDATE docs/io-$r.json >/dev/null || fail "docs/io-$r.json does not validate"
    io_docs+=(docs/io-$r.json)
  done
  fstype=$(findmnt -no FSTYPE -T "$TMP/flash" 2>/dev/null || true)
  $PY - "$TMP" "$fstype" "${io_docs[@]}" <<'PYEOF' || fail "inventory.storage"
import json, os, sys
tmp, fstype = sys.argv[1], sys.argv[2]
for path in sys.argv[3:]:
    storage = json.load(open(path))["inventory"].get("storage")
    assert storage, f"{path}: no inventory.storage"
    by_tier = {s["tier"]: s for s in storage}
    assert sorted(by_tier) == ["flash", "hdd"], f"{path}: {storage}"
    for name, s in by_tier.items():
        assert "error" not in s, s
        assert s["path"] == f"{tmp}/{name}" and s["real_path"] == os.path.realpath(f"{tmp}/{name}"), s
        assert s["type"] and s["mount_point"] and s["options"] and s["total_bytes"] > 0, s
        if fstype: assert s["type"] == fstype, (s["type"], fstype)
PYEOF
  expect_status 0 "$CONVERGE" report "${io_docs[@]}" --format html -o io-report.html
  PAGE=io-report.html browser --dump-dom > io-dom.html || { tail -20 chromium.log >&2; fail "chromium --dump-dom failed"; }
  tiers=$($PY - io-dom.html "$ranks" "$fstype" <<'PYEOF'

import re, sys
from html.parser import HTMLParser

class Tables(HTMLParser):
    """Each <h2> title with the rows of the table after it (cells as text)."""
    def __init__(self):
        super().__init__()
        self.tables, self.title, self.cell, self.in_h2 = {}, None, None, False
    def handle_starttag(self, tag, attrs):
        if tag == "h2": self.in_h2, self.title = True, ""
        elif tag == "tr" and self.title is not None: self.tables.setdefault(self.title, []).append([])
        elif tag in ("td", "th"): self.cell = ""
    def handle_endtag(self, tag):
        if tag == "h2": self.in_h2 = False
        elif tag in ("td", "th") and self.cell is not None:
            self.tables[self.title][-1].append(self.cell)
            self.cell = None
    def handle_data(self, data):
        if self.in_h2: self.title += data
        elif self.cell is not None: self.cell += data

p = Tables()
p.feed(open(sys.argv[1], encoding="utf-8").read())
ranks, fstype = sys.argv[2].split(), sys.argv[3]
title = [t for t in p.tables if t.startswith("storage tiers")]
assert len(title) == 1, f"one storage tier table expected, titles: {list(p.tables)}"
header, *rows = p.tables[title[0]]
assert header[:4] == ["benchmark", "params", "ranks", "metric"] and len(header) == 6, header
for col, name in zip(header[4:], ("flash", "hdd")):
    assert col.startswith(f"{name} (kind {name}): {fstype}"), col
    assert " on /" in col and "rw" in col, f"no mount point or options: {col}"
got = sorted((r[0], r[2]) for r in rows)
want = sorted((b, k) for b in ("io.posix.write", "io.posix.md_create") for k in ranks)
assert got == want, (got, want)
figure = re.compile(r"^[0-9.]+ [kMGT]?(B/s|/s) \(CV [0-9.]+%\)$")
for r in rows:
    for cell in r[4:]:
        assert figure.match(cell), f"{r[0]} at {r[2]} ranks: cell {cell!r}"
print(f"{len(rows)} rows x {len(header) - 4} tiers")
PYEOF
  ) || fail "the storage tier table (see above)"
  echo "storage tiers: $tiers"
else
  echo "storage tiers: not checked (no converge-worker-io built)"
fi

echo "report browser ok: $(echo $charts | wc -w) charts rendered, ${tiers:+storage tier table $tiers, }screenshot $ARTIFACTS/report.png ($size bytes), ${SECONDS} s"
