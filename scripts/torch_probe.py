"""What PyTorch this Python has and how fast its matmul is: the speed peer's credentials.
Usage: PYTHON scripts/torch_probe.py [--threads N] [--reps 5]
Prints one JSON line: torch version, Python, BLAS (from torch.__config__), MKL/MKL-DNN availability,
threads used, and the best GFLOP/s of a float32 [512,1024]·[1024,2048] matmul (2·512·1024·2048 FLOPs).
Exits 3 with {"error": ...} when torch cannot be imported."""
import argparse
import json
import re
import sys
import time

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (0 = torch default)')
p.add_argument('--reps', type=int, default=5)
args = p.parse_args()
try:
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means no peer here
    print(json.dumps(dict(error=f'import torch failed: {type(e).__name__}: {e}'.splitlines()[0], python=sys.executable)))
    raise SystemExit(3)

if args.threads > 0:
    torch.set_num_threads(args.threads)
config = torch.__config__.show()
blas = re.search(r'BLAS_INFO=(\w+)', config)
lapack = re.search(r'LAPACK_INFO=(\w+)', config)
cpu = re.search(r'CPU capability usage: (\w+)', config)
a = torch.randn(512, 1024)
b = torch.randn(1024, 2048)
torch.mm(a, b)  # warm-up
best = float('inf')
for _ in range(args.reps):
    t = time.perf_counter()
    torch.mm(a, b)
    best = min(best, time.perf_counter() - t)
print(json.dumps(dict(
    python=sys.executable,
    python_version='.'.join(map(str, sys.version_info[:3])),
    torch=torch.__version__,
    blas=blas.group(1) if blas else 'unknown',
    lapack=lapack.group(1) if lapack else None,
    cpu_capability=cpu.group(1) if cpu else None,
    mkl=bool(torch.backends.mkl.is_available()),
    mkldnn=bool(torch.backends.mkldnn.is_available()),
    threads=torch.get_num_threads(),
    matmul_gflops=2 * 512 * 1024 * 2048 / best / 1e9,
)))
