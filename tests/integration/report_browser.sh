#!/usr/bin/env bash
# `converge report`: two real runs of a tiny suite, then the HTML report opened in a real headless
# Chromium (Debian's) with no network: every chart must render an SVG with marks and no error,
# and the page is kept as a screenshot (ARTIFACTS/report.png). Markdown and CSV hold the same
# results and the "not measured" energy reason. Exit 77 (skipped) only when Chromium is missing.
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
    --virtual-time-budget=10000 "$@" "file://$TMP/report.html" 2>>chromium.log
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

echo "report browser ok: $(echo $charts | wc -w) charts rendered, screenshot $ARTIFACTS/report.png ($size bytes), ${SECONDS} s"
