#!/usr/bin/env bash
# Every run is indexed in the results store; `converge results` lists, filters, tags, shows,
# exports (the document as written), removes and rebuilds the index from the documents.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
quick="--warmup 1 --min-reps 3 --min-time 0 --budget 0.2"
expect_status 0 "$CONVERGE" run micro.stream.triad --param n=64k $quick --out docs/a.json
expect_status 0 "$CONVERGE" run micro.stream.copy --param n=64k $quick --out docs/b.json
expect_status 0 "$CONVERGE" results list
expect_output "2 run(s) in $CONVERGE_DB"
a=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' docs/a.json)
expect_status 0 "$CONVERGE" results tag "$a" baseline
expect_status 0 "$CONVERGE" results list --tag baseline --json
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert [x["run_id"] for x in r]==[sys.argv[2]], r' "$TMP/out" "$a" \
  || fail "list --tag"
expect_status 0 "$CONVERGE" results list --benchmark micro.stream.copy --json
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r)==1 and r[0]["suite"]=="micro.stream.copy", r' "$TMP/out" \
  || fail "list --benchmark"
expect_status 0 "$CONVERGE" results show baseline
expect_output "run $a: suite micro.stream.triad"
expect_output "micro.stream.triad  n=64k"
expect_status 0 "$CONVERGE" results export baseline --out exported.json
/usr/bin/python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' exported.json docs/a.json \
  || fail "export differs from the document"
expect_status 1 "$CONVERGE" results show no-such-run
expect_output "no run or tag 'no-such-run'"
expect_status 0 "$CONVERGE" results rm "$a"
[ -f docs/a.json ] || fail "rm removed the document file"
expect_status 0 "$CONVERGE" results list
expect_output "1 run(s)"
expect_status 0 "$CONVERGE" results reindex docs
expect_output "indexed 2 run document(s)"
expect_status 0 "$CONVERGE" results list
expect_output "2 run(s)"
echo "results store ok"
