#!/usr/bin/python3
"""Execute notebooks headless on the project-local tslab kernel (CI runner).

Usage (from anywhere; paths are resolved against the repository root):
    /usr/bin/python3 scripts/run-notebooks.py [--out DIR] [--html] [--timeout S] [-v] [NB.ipynb ...]

Without notebook arguments it runs every notebooks/*.ipynb in name order.  Each notebook is
executed with nbclient (Debian: python3-nbclient) on the kernel named `tslab`, with the kernel's
working directory set to the notebook's folder, exactly as the classic notebook server does.
A notebook fails on the first cell that errors; tslab's error replies carry no ename/evalue/
traceback, so the failing cell's stderr (TypeScript diagnostics or the JS stack) is printed.

Prints one status line per notebook and finally exactly `N passed, N failed`; exits 1 if any
notebook failed (2 for usage / setup problems).

--out DIR   write the executed notebooks (with outputs) to DIR
--html      also convert them to DIR/<name>.html with nbconvert (needs --out)
--sign      mark written notebooks trusted, so their plots render when opened in the live server
--startup-retries N   start a kernel that never came up again, up to N times (default 2): seen once
            in a CI run under load, tslab died at start in zeromq's bind ("Socket is blocked by a
            bind or unbind operation")

Set NB_SMOKE=1 to run the notebooks in smoke mode (tiny data/model/steps); the kernel inherits
the environment.  The kernelspec is registered under .jupyter/ first if it is missing.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUPYTER_PATH = os.path.join(ROOT, ".jupyter", "share", "jupyter")
# NB_KERNEL names another registered kernel (the runner's own tests use a stand-in).
KERNEL = os.environ.get("NB_KERNEL", "tslab")

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in [JUPYTER_PATH, os.environ.get("JUPYTER_PATH", "")] if p)

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"run-notebooks: cannot import Jupyter's Python packages ({e}).\n"
        "  Debian/Ubuntu: sudo apt-get install jupyter-notebook python3-nbclient python3-nbconvert\n"
        "  elsewhere:     python3 -m pip install notebook nbclient nbconvert\n"
        "  (run this script with the python3 that has them, e.g. /usr/bin/python3)\n")
    sys.exit(2)


def ensure_kernel():
    """Register the project-local kernelspec if it is missing or points elsewhere (moved checkout)."""
    if KERNEL != "tslab":
        return
    spec = os.path.join(JUPYTER_PATH, "kernels", KERNEL, "kernel.json")
    try:
        with open(spec, encoding="utf-8") as f:
            binary = json.load(f)["argv"][0]
        if os.path.exists(binary) and os.path.realpath(binary).startswith(os.path.realpath(ROOT) + os.sep):
            return
        why = f"points to {binary}"
    except (OSError, ValueError, KeyError, IndexError):
        why = "is missing"
    print(f"kernelspec {KERNEL!r} under .jupyter/ {why}; running scripts/setup-kernel.sh", flush=True)
    env = dict(os.environ, PYTHON=os.environ.get("PYTHON") or sys.executable)
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "setup-kernel.sh")], cwd=ROOT, env=env)
    if r.returncode != 0:
        sys.exit(2)


def cell_stderr(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename', '')}: {o.get('evalue', '')}\n" + "\n".join(o.get("traceback", [])))
    return "".join(parts).strip()


def indent(text, prefix="      "):
    return prefix + text.replace("\n", "\n" + prefix)


def run_one(path, args):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=args.timeout, startup_timeout=args.startup_timeout,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    t0 = time.time()
    error = None
    started = False
    try:
        with client.setup_kernel():
            started = True
            if args.verbose:
                print(f"  kernel ready in {time.time() - t0:.1f}s", flush=True)
            n = 0
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                n += 1
                ts = time.time()
                try:
                    client.execute_cell(cell, i)
                except CellExecutionError:
                    err = cell_stderr(cell) or "(the kernel reported an error but wrote nothing to stderr)"
                    error = f"cell {i} (code cell #{n}) failed after {time.time() - ts:.1f}s:\n" + \
                        indent("--- source ---\n" + cell.source.strip()) + "\n" + \
                        indent("--- stderr ---\n" + err)
                    break
                except Exception as e:  # timeouts, dead kernel, protocol problems
                    error = f"cell {i} (code cell #{n}) did not complete: {type(e).__name__}: {e}"
                    break
                finally:
                    # tslab sends no execute_input, so number the cells ourselves
                    if cell.get("execution_count") is None:
                        cell.execution_count = n
                if args.verbose:
                    print(f"  cell {i} ok {time.time() - ts:.2f}s", flush=True)
    except DeadKernelError as e:
        error = error or f"kernel died: {e}"
    except Exception as e:
        msg = f"{type(e).__name__}: {e}"
        if "No such kernel" in msg:
            msg += f"\n  (is the kernelspec registered? run: sh scripts/setup-kernel.sh; JUPYTER_PATH={JUPYTER_PATH})"
        error = error or f"could not run the kernel: {msg}"
    return nb, error, time.time() - t0, started


def write_outputs(nb, path, args):
    os.makedirs(args.out, exist_ok=True)
    base = os.path.splitext(os.path.basename(path))[0]
    if args.sign:
        from nbformat.sign import NotebookNotary
        NotebookNotary().sign(nb)
    out_nb = os.path.join(args.out, base + ".ipynb")
    nbformat.write(nb, out_nb)
    if args.html:
        from nbconvert import HTMLExporter
        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(os.path.join(args.out, base + ".html"), "w", encoding="utf-8") as f:
            f.write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    ap.add_argument("--out", help="write executed notebooks (and --html) here")
    ap.add_argument("--html", action="store_true", help="also write nbconvert HTML to --out")
    ap.add_argument("--sign", action="store_true", help="sign the written notebooks as trusted")
    ap.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    ap.add_argument("--startup-timeout", type=int, default=120, help="kernel start timeout (default 120)")
    ap.add_argument("--startup-retries", type=int, default=2, help="start a kernel that did not come up again, this many times (default 2)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print per-cell timings")
    args = ap.parse_args()
    if args.html and not args.out:
        ap.error("--html needs --out DIR")
    paths = args.notebooks or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    if not paths:
        print("no notebooks found")
        print("0 passed, 0 failed")
        return 0
    ensure_kernel()
    passed = failed = 0
    for path in paths:
        rel = os.path.relpath(os.path.abspath(path), ROOT)
        print(f"{rel}: running{' (smoke)' if os.environ.get('NB_SMOKE') else ''}", flush=True)
        for attempt in range(args.startup_retries + 1):
            nb, error, secs, started = run_one(path, args)
            # A kernel that never came up (it died in zeromq's bind once, under load) ran nothing:
            # start it again.
            if not error or started or attempt == args.startup_retries:
                break
            print(f"{rel}: the kernel did not start ({error.splitlines()[0]}); starting it again", flush=True)
        if error:
            failed += 1
            print(f"{rel}: FAILED in {secs:.1f}s\n" + indent(error, "  "), flush=True)
        else:
            passed += 1
            print(f"{rel}: ok in {secs:.1f}s", flush=True)
        if args.out:
            write_outputs(nb, path, args)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
