#!/usr/bin/python3
"""Build tslab notebooks from plain cell sources, export them back, strip outputs.

Cell sources use the "percent" format (as jupytext does for TypeScript):

    // %%                      starts a code cell
    // %% [markdown]           starts a markdown cell; its lines are written as `// text`

Text before the first marker is a code cell if it is not blank.

Usage (run with /usr/bin/python3 from the repository root):
    scripts/mknb.py build SRC.ts OUT.ipynb     # cell sources -> notebook (no outputs)
    scripts/mknb.py export NB.ipynb [OUT.ts]   # notebook -> cell sources (stdout without OUT)
    scripts/mknb.py strip NB.ipynb...          # remove outputs/execution counts in place
    scripts/mknb.py strip --stdin              # the same, stdin to stdout (git's clean filter "nbstrip",
                                               # set up by scripts/setup-git-filter.sh)
    scripts/mknb.py check NB.ipynb...          # exit 1 if any notebook has outputs or a wrong kernel

Committed notebooks must carry no outputs: run `strip` (or `check`) before committing.
"""
import hashlib
import re
import sys

import nbformat

KERNELSPEC = {"name": "tslab", "display_name": "TypeScript", "language": "typescript"}
LANGUAGE_INFO = {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"}
MARKER = re.compile(r"^// %%(?:\s*\[(\w+)\])?\s*$")


def parse_cells(text):
    cells, kind, buf = [], "code", []

    def flush():
        src = "\n".join(buf).strip("\n")
        if kind == "markdown":
            src = "\n".join(re.sub(r"^// ?", "", l) for l in src.split("\n"))
            cells.append(nbformat.v4.new_markdown_cell(src))
        elif src.strip() or cells:  # skip an empty preamble only
            cells.append(nbformat.v4.new_code_cell(src))

    for line in text.split("\n"):
        m = MARKER.match(line)
        if m:
            if buf or cells or kind != "code":
                flush()
            kind, buf = (m.group(1) or "code").lower(), []
            if kind not in ("code", "markdown"):
                sys.exit(f"unknown cell type [{kind}]")
        else:
            buf.append(line)
    flush()
    return cells


def new_notebook(cells):
    # deterministic cell ids, so rebuilding an unchanged source gives an identical file
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i:02d}-" + hashlib.sha1(cell.source.encode("utf-8")).hexdigest()[:8]
    return nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)})


def strip(nb):
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell.outputs, cell.execution_count = [], None
        for k in ("execution", "collapsed", "scrolled"):
            if k in cell.metadata:
                del cell.metadata[k]
                changed = True
    for k in ("widgets",):
        if k in nb.metadata:
            del nb.metadata[k]
            changed = True
    # What the notebook server writes from the kernel's reply (language version, codemirror mode).
    for k, want in (("kernelspec", KERNELSPEC), ("language_info", LANGUAGE_INFO)):
        if nb.metadata.get(k) != want:
            nb.metadata[k] = dict(want)
            changed = True
    return changed


def export(nb):
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            body = "\n".join(("// " + l).rstrip() for l in cell.source.split("\n"))
            parts.append("// %% [markdown]\n" + body)
        elif cell.cell_type == "code":
            parts.append("// %%\n" + cell.source)
    return "\n\n".join(parts) + "\n"


def main(argv):
    if len(argv) < 2 or argv[0] not in ("build", "export", "strip", "check"):
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "build":
        if len(args) != 2:
            sys.exit("usage: mknb.py build SRC.ts OUT.ipynb")
        with open(args[0], encoding="utf-8") as f:
            nb = new_notebook(parse_cells(f.read()))
        nbformat.validate(nb)
        nbformat.write(nb, args[1])
        print(f"wrote {args[1]} ({len(nb.cells)} cells)")
    elif cmd == "export":
        text = export(nbformat.read(args[0], as_version=4))
        if len(args) > 1:
            with open(args[1], "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
    elif cmd == "strip" and args == ["--stdin"]:
        nb = nbformat.read(sys.stdin, as_version=4)
        strip(nb)
        nbformat.write(nb, sys.stdout)
    elif cmd == "strip":
        for path in args:
            nb = nbformat.read(path, as_version=4)
            if strip(nb):
                nbformat.write(nb, path)
                print(f"stripped {path}")
    else:
        bad = 0
        for path in args:
            nb = nbformat.read(path, as_version=4)
            problems = []
            if strip(nb):
                problems.append("has outputs (run: /usr/bin/python3 scripts/mknb.py strip " + path + ")")
            if nb.metadata.get("kernelspec", {}).get("name") != "tslab":
                problems.append("kernelspec is not tslab")
            for p in problems:
                print(f"{path}: {p}")
            bad += bool(problems)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
