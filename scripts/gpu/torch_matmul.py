#!/usr/bin/env python3
"""torch.matmul on square n x n matrices, timed as converge times its GEMMs: CUDA events around
each call, warm-up discarded, median of the timed calls, 2 n^3 FLOPs. Prints one JSON object per
(dtype, n) line; exits 3 when PyTorch or a CUDA device is missing (the caller reports "not run")."""
import json
import statistics
import sys

try:
    import torch
except ImportError:
    print("PyTorch is not installed", file=sys.stderr)
    sys.exit(3)
if not torch.cuda.is_available():
    print("PyTorch sees no CUDA device", file=sys.stderr)
    sys.exit(3)

sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "2048,4096,8192").split(",")]
dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16}
torch.backends.cuda.matmul.allow_tf32 = False
for name, dtype in dtypes.items():
    for n in sizes:
        g = torch.Generator(device="cuda").manual_seed(42)
        a = (torch.rand(n, n, device="cuda", generator=g) * 2 - 1).to(dtype)
        b = (torch.rand(n, n, device="cuda", generator=g) * 2 - 1).to(dtype)
        for _ in range(5):
            torch.matmul(a, b)
        torch.cuda.synchronize()
        times = []
        for _ in range(50):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.matmul(a, b)
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) * 1e-3)
        median = statistics.median(times)
        print(json.dumps({"dtype": name, "n": n, "median_s": median, "flop_rate": 2 * n**3 / median,
                          "torch": torch.__version__, "cuda": torch.version.cuda,
                          "device": torch.cuda.get_device_name()}))
