#!/usr/bin/env python3
"""Checks issue 6's GPU figures in one run document against their references and writes the
Markdown table for the README. Criteria (all measured in the same sitting on the same device):
  - micro.gpu_peakflops.fp64 and .fp32: flop_rate >= 90% of the peak at the SM clock the kernel
    measured (notes.peak_at_measured_clock);
  - micro.gpu_gemm.fp16 and .bf16: flop_rate >= 95% of torch.matmul's for the same n and dtype
    (torch.jsonl from torch_matmul.py; "not run" when PyTorch is absent);
  - micro.gpu_stream.triad: bandwidth >= 90% of micro.gpu_transfer.d2d's at its largest size;
  - every CUDA result verified (status ok, or skipped for a capability the device lacks).
  - the gpu test with compute-sanitizer passed ($GPU_TEST_RESULT, set by fidelity.sh).
usage: fidelity_check.py RUN.json [TORCH.jsonl] > table.md; exit 1 when a criterion fails."""
import json
import os
import sys


def fmt_rate(v, unit):
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if abs(v) >= scale:
            return f"{v / scale:.4g} {prefix}{unit}"
    return f"{v:.4g} {unit}"


def main():
    doc = json.load(open(sys.argv[1]))
    torch = []
    if len(sys.argv) > 2:
        try:
            torch = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
        except FileNotFoundError:
            torch = []
    cuda = [r for r in doc["results"] if r.get("backend") == "cuda"]
    gpus = doc["inventory"].get("gpus", [])
    device = f'{gpus[0]["name"]} (sm {gpus[0]["compute_capability"]}, driver {gpus[0]["driver_version"]})' if gpus else "no GPU"
    rows, failures = [], []

    def check(what, measured, reference, ratio_needed, ref_text):
        if measured is None or reference is None or reference <= 0:
            rows.append((what, "-" if measured is None else measured[1], ref_text, "-", "not measured"))
            return
        ratio = measured[0] / reference
        ok = ratio >= ratio_needed
        rows.append((what, measured[1], ref_text, f"{100 * ratio:.1f}% (needs {100 * ratio_needed:.0f}%)",
                     "pass" if ok else "FAIL"))
        if not ok:
            failures.append(what)

    def first(bench, **params):
        for r in cuda:
            if r["benchmark"] == bench and r["status"] == "ok" and all(r["params"].get(k) == str(v) for k, v in params.items()):
                return r
        return None

    for p in ("fp64", "fp32"):
        r = first(f"micro.gpu_peakflops.{p}")
        if r is None:
            check(f"{p} FMA vs peak at measured clock", None, None, 0.9, "-")
            continue
        m = r["metrics"][0]
        peak = float(r["notes"].get("peak_at_measured_clock", "nan"))
        clock = r["notes"].get("sm_clock_measured_mhz", "?")
        check(f"{p} FMA vs peak at measured clock", (m["value"], fmt_rate(m["value"], "FLOP/s")), peak, 0.9,
              f"{fmt_rate(peak, 'FLOP/s')} at {clock} MHz")

    for dtype in ("fp16", "bf16"):
        for t in [t for t in torch if t["dtype"] == dtype]:
            r = first(f"micro.gpu_gemm.{dtype}", n=t["n"])
            check(f"{dtype} GEMM n={t['n']} vs torch.matmul", None if r is None else
                  (r["metrics"][0]["value"], fmt_rate(r["metrics"][0]["value"], "FLOP/s")),
                  t["flop_rate"], 0.95, f"{fmt_rate(t['flop_rate'], 'FLOP/s')} (torch {t['torch']}, CUDA {t['cuda']})")
        if not any(t["dtype"] == dtype for t in torch):
            rows.append((f"{dtype} GEMM vs torch.matmul", "-", "no torch.matmul figure (PyTorch not installed?)", "-", "not measured"))

    triad = first("micro.gpu_stream.triad")
    d2d = sorted((r for r in cuda if r["benchmark"] == "micro.gpu_transfer.d2d" and r["status"] == "ok"),
                 key=lambda r: int(r["work"]["bytes"]))
    ref = d2d[-1] if d2d else None
    check("HBM triad vs device-to-device cudaMemcpy",
          None if triad is None else (triad["metrics"][0]["value"], fmt_rate(triad["metrics"][0]["value"], "B/s")),
          None if ref is None else ref["metrics"][0]["value"], 0.9,
          "-" if ref is None else f"{fmt_rate(ref['metrics'][0]['value'], 'B/s')} (size {ref['params'].get('size')})")

    unverified = [f'{r["benchmark"]} {r["params"]}: {r["status"]} {r["reason"]}' for r in cuda
                  if r["status"] not in ("ok", "skipped") or (r["status"] == "skipped" and "no CUDA device" in r["reason"])]
    rows.append(("every CUDA result verified", f"{sum(r['status'] == 'ok' for r in cuda)} ok, "
                 f"{sum(r['status'] == 'skipped' for r in cuda)} skipped", "-", "-", "pass" if not unverified else "FAIL"))
    if unverified:
        failures.append("verification")
    sanitizer = os.environ.get("GPU_TEST_RESULT", "")
    if sanitizer:
        rows.append(("gpu test + compute-sanitizer at tiny sizes", sanitizer, "-", "-",
                     "pass" if sanitizer == "pass" else "FAIL"))
        if sanitizer != "pass":
            failures.append("gpu test")

    print(f"Device: {device}; run {doc['run_id']} ({doc['started_at']}).\n")
    print("| check | converge | reference | ratio | verdict |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print("\n| benchmark | params | figure | fraction of peak | notes |")
    print("| --- | --- | --- | --- | --- |")
    for r in cuda:
        if r["status"] != "ok":
            print(f'| {r["benchmark"]} | {r["params"]} | {r["status"]}: {r["reason"]} | | |')
            continue
        m = r["metrics"][0]
        frac = f'{100 * m["fraction_of_peak"]:.1f}%' if m.get("fraction_of_peak") else "-"
        clock = r["notes"].get("sm_clock_measured_mhz", "")
        params = " ".join(f"{k}={v}" for k, v in r["params"].items() if k != "device")
        print(f'| {r["benchmark"]} | {params} | {fmt_rate(m["value"], m["unit"].split("/")[0] + "/s") if m["unit"].endswith("/s") else m["value"]} | {frac} | {("SM " + clock + " MHz") if clock else ""} |')
    for u in unverified:
        print(f"\nNOT VERIFIED: {u}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
