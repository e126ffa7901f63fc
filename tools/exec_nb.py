#!/usr/bin/env python
"""Run a notebook's cells and save their outputs into it, the way nbdev's test runner runs them.

    python tools/exec_nb.py nbs/12_kaiming.ipynb                # slow/cuda cells skipped, their old outputs kept
    python tools/exec_nb.py nbs/12_kaiming.ipynb --flags slow   # also run the slow cells
    python tools/exec_nb.py nbs/23_benchmarks.ipynb --cells 31  # also run flagged cell 31 (0-based index), no other
    python tools/exec_nb.py nbs/17_airbench.ipynb --flags cuda --plain   # where nbdev and execnb are not installed

Cells flagged with a test flag of settings.ini (`#| slow`, `#| cuda`) are skipped unless named in --flags:
they keep the outputs they had. The run stops at the first cell that raises, and the notebook is then left
unchanged. Run `nbdev_clean` afterwards, as before every commit.

`--plain` needs neither nbdev nor execnb (a lent GPU machine has neither; see tools/gpu_check.sh): it runs the same
cells in one namespace with plain Python, printing the value of a cell's last expression as IPython would, and saves
new outputs only into the flagged cells it was asked to run (their printed text); every other cell keeps its outputs.
Where nbdev is missing, `show_doc` does nothing.
"""
import argparse, ast, contextlib, io, json, os, re, sys, traceback, warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")


def _flags(source):
    "The test flags of a code cell's source (`#| slow`, `#| cuda`, ...), from its leading directive lines."
    flags = set()
    for line in source.splitlines():
        m = re.match(r"\s*#\s*\|\s*(.*)", line)
        if not m: break
        flags.update(m.group(1).split())
    return flags


def _skipped(source, idx, skip, cells):
    "Is this code cell left out of the run: the export cell (not needed to run), or a cell flagged in `skip` whose index is not in `cells`?"
    if source.lstrip().startswith("#| hide") and "nbdev_export" in source: return True
    return bool(_flags(source) & skip) and idx not in cells


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebook")
    p.add_argument("--flags", default="", help="space-separated test flags whose cells run too (slow, cuda)")
    p.add_argument("--cells", type=int, nargs="*", default=[], help="0-based indices of flagged cells to run as well")
    p.add_argument("--plain", action="store_true", help="run without nbdev and execnb; only the flagged cells run get new outputs")
    a = p.parse_args()
    if a.plain: return plain(a)
    from nbdev.config import get_config
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    cfg = get_config()
    fn = Path(a.notebook).absolute()
    skip = set(cfg.tst_flags.split()) - set(a.flags.split())
    nb = read_nb(fn)
    os.chdir(fn.parent)
    sys.path.insert(0, str(Path(cfg.config_path)))
    shell = CaptureShell()
    shell.run_cell("import warnings; warnings.filterwarnings('ignore', message='pkg_resources is deprecated')")
    current = {}
    def pre(cell):
        current["cell"] = cell
        return cell.cell_type != "code" or _skipped(cell.source, cell.idx_, skip, a.cells)
    try: shell.run_all(nb, exc_stop=True, preproc=pre)
    except BaseException:
        print(f"{fn.name}: this cell failed, the notebook was not changed:\n{current['cell'].source}\n", file=sys.stderr)
        raise
    write_nb(nb, fn)
    print(f"ran {fn.name}; outputs saved (cells flagged {sorted(skip) or 'nothing'} kept their old outputs)")


def _tst_flags():
    "settings.ini's `tst_flags`, read without nbdev."
    import configparser
    root = Path(__file__).resolve().parents[1]
    c = configparser.ConfigParser(); c.read(root / "settings.ini")
    return root, set(c["DEFAULT"].get("tst_flags", "").split())


def _run_source(src, ns, name):
    "Run a cell's source in `ns`; print the value of its last line if that is an expression (not None), as IPython does."
    tree = ast.parse(src, name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), ns)
    if last is not None:
        v = eval(compile(ast.Expression(last.value), name, "eval"), ns)
        if v is not None: print(repr(v))


class _Tee(io.StringIO):
    "A StringIO that also writes, and flushes, everything to `stream`."
    def __init__(self, stream): super().__init__(); self.stream = stream
    def write(self, text):
        self.stream.write(text); self.stream.flush()
        return super().write(text)


def plain(a):
    "Run the notebook with plain Python (see the module's docstring)."
    root, flags = _tst_flags()
    skip = flags - set(a.flags.split())
    fn = Path(a.notebook).absolute()
    nb = json.loads(fn.read_text())
    os.chdir(fn.parent)
    sys.path.insert(0, str(root))
    import matplotlib; matplotlib.use("Agg")                         # no screen: figures are drawn and dropped
    try: import nbdev.showdoc
    except ImportError:                                               # without nbdev, `from nbdev.showdoc import *` gets a no-op show_doc
        import types
        sys.modules["nbdev"], sys.modules["nbdev.showdoc"] = types.ModuleType("nbdev"), types.ModuleType("nbdev.showdoc")
        sys.modules["nbdev.showdoc"].show_doc, sys.modules["nbdev.showdoc"].__all__ = (lambda *a, **k: None), ["show_doc"]
    ns, new = {"__name__": "__main__"}, {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code": continue
        src = "".join(cell["source"])
        if _skipped(src, i, skip, a.cells): continue
        f = _flags(src) & flags
        out = _Tee(sys.stdout)                                          # printed as it comes (a log survives a timeout) and kept
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out): _run_source(src, ns, f"<cell {i}>")
        except BaseException:
            traceback.print_exc()
            print(f"{fn.name}: cell {i} failed, the notebook was not changed:\n{src}\n", file=sys.stderr)
            sys.exit(1)
        if f: new[i] = out.getvalue()                                  # a flagged cell asked for: its new output
    for i, text in new.items():
        nb["cells"][i]["outputs"] = [{"name": "stdout", "output_type": "stream", "text": text.splitlines(keepends=True)}] if text else []
    fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"ran {fn.name} with plain Python; new outputs saved in cells {sorted(new) or 'none'}")


if __name__ == "__main__":
    main()
