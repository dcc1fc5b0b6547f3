#!/usr/bin/python3
"""Probe the project's tslab kernel's Jupyter messaging (what test/kernel-messaging.test.ts checks).

Usage: /usr/bin/python3 scripts/kernel-probe.py     (prints one JSON object)
Env:   UNREASONABLE_TSLAB_UNPATCHED=1 runs tslab without bin/tslab-kernel.js's fixes (to compare).

Starts the kernel registered under .jupyter/ (scripts/setup-kernel.sh) with jupyter_client and
measures, on the real wire protocol:
  burst     a synchronous cell printing 700 lines: how many arrive (stock tslab loses those past
            zeromq's 512 synchronous sends)
  displays  700 display calls then a console.log: reply status and what arrives (stock tslab: the
            cell fails with no message at all)
  queued    three 0.3 s cells sent at once, as Run All does: every status and reply in arrival order
  liveness  40 steps of 100 ms of synchronous work yielding with setImmediate (as lib/train/trainer.ts
            does): kernel_info round trips and the delay of each step's line, in ms
"""
import json
import os
import queue
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in [os.path.join(ROOT, ".jupyter", "share", "jupyter"), os.environ.get("JUPYTER_PATH", "")] if p)
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
from jupyter_client.manager import KernelManager  # noqa: E402


def collect(kc, ids, timeout=120):
    """iopub and shell messages until every request in ids has its reply and its idle."""
    out = {i: {"stream": "", "displays": 0, "reply": None} for i in ids}
    log, idle, replied = [], set(), set()
    end = time.time() + timeout
    while (idle != set(ids) or replied != set(ids)) and time.time() < end:
        try:
            m = kc.get_iopub_msg(timeout=0.02)
            p, t = m["parent_header"].get("msg_id"), m["msg_type"]
            if p in out:
                if t == "stream":
                    out[p]["stream"] += m["content"]["text"]
                elif t in ("display_data", "update_display_data"):
                    out[p]["displays"] += 1
                elif t == "status":
                    log.append(["status", ids.index(p), m["content"]["execution_state"]])
                    if m["content"]["execution_state"] == "idle":
                        idle.add(p)
        except queue.Empty:
            pass
        try:
            while True:
                m = kc.get_shell_msg(timeout=0)
                p = m["parent_header"].get("msg_id")
                if p in out:
                    out[p]["reply"] = m["content"]["status"]
                    log.append(["reply", ids.index(p), m["content"]["status"]])
                    replied.add(p)
        except queue.Empty:
            pass
    return [out[i] for i in ids], log


def main():
    km = KernelManager(kernel_name="tslab")
    km.start_kernel(cwd=os.path.join(ROOT, "notebooks"))
    kc = km.client()
    kc.start_channels()
    res = {}
    try:
        kc.wait_for_ready(timeout=120)
        (b,), _ = collect(kc, [kc.execute('for (let i = 0; i < 700; i++) console.log("line " + i);')])
        res["burst"] = {"lines": b["stream"].count("line "), "reply": b["reply"]}
        (d,), _ = collect(kc, [kc.execute(
            'import * as tslab from "tslab";\nfor (let i = 0; i < 700; i++) tslab.display.text("d" + i);\n'
            'console.log("after displays");')])
        res["displays"] = {"displays": d["displays"], "reply": d["reply"], "stream": d["stream"]}
        ids = [kc.execute(f'await new Promise((r) => setTimeout(r, 300)); console.log("cell {k}");') for k in range(3)]
        cells, log = collect(kc, ids)
        res["queued"] = {"log": log, "replies": [c["reply"] for c in cells], "streams": [c["stream"] for c in cells]}
        live = kc.execute('for (let i = 0; i < 40; i++) { const t = Date.now(); while (Date.now() - t < 100) {} '
                          'console.log("step " + i + " " + Date.now()); await new Promise((r) => setImmediate(r)); }')
        rtt, lag, done, end = [], [], False, time.time() + 120
        while not done and time.time() < end:
            t, kid = time.time(), kc.kernel_info()
            while True:
                m = kc.get_shell_msg(timeout=30)
                if m["parent_header"].get("msg_id") == kid:
                    rtt.append(round(1000 * (time.time() - t), 1))
                    break
            try:
                while True:
                    m = kc.get_iopub_msg(timeout=0)
                    if m["parent_header"].get("msg_id") != live:
                        continue
                    if m["msg_type"] == "stream":
                        for line in m["content"]["text"].splitlines():
                            if line.startswith("step "):
                                lag.append(round(time.time() * 1000 - int(line.split()[2]), 1))
                    elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                        done = True
            except queue.Empty:
                pass
            time.sleep(0.1)
        res["liveness"] = {"kernel_info_ms": rtt, "line_delay_ms": lag, "steps_seen": len(lag)}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
