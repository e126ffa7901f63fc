#!/usr/bin/env python
"""Run a notebook's cells and save their outputs into it, the way nbdev's test runner runs them.

    python tools/exec_nb.py nbs/12_kaiming.ipynb                # slow/cuda cells skipped, their old outputs kept
    python tools/exec_nb.py nbs/12_kaiming.ipynb --flags slow   # also run the slow cells
    python tools/exec_nb.py nbs/22_benchmarks.ipynb --cells 31  # also run flagged cell 31 (0-based index), no other

Cells flagged with a test flag of settings.ini (`#| slow`, `#| cuda`) are skipped unless named in --flags:
they keep the outputs they had. The run stops at the first cell that raises, and the notebook is then left
unchanged. Run `nbdev_clean` afterwards, as before every commit.
"""
import argparse, os, re, sys, warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")


def _flags(cell):
    "The test flags of a code cell (`#| slow`, `#| cuda`, ...), from its leading directive lines."
    flags = set()
    for line in cell.source.splitlines():
        m = re.match(r"\s*#\s*\|\s*(.*)", line)
        if not m: break
        flags.update(m.group(1).split())
    return flags


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebook")
    p.add_argument("--flags", default="", help="space-separated test flags whose cells run too (slow, cuda)")
    p.add_argument("--cells", type=int, nargs="*", default=[], help="0-based indices of flagged cells to run as well")
    a = p.parse_args()
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
        if cell.cell_type != "code": return True
        src = cell.source.lstrip()
        if src.startswith("#| hide") and "nbdev_export" in src: return True   # the export cell: not needed to run
        return bool(_flags(cell) & skip) and cell.idx_ not in a.cells
    try: shell.run_all(nb, exc_stop=True, preproc=pre)
    except BaseException:
        print(f"{fn.name}: this cell failed, the notebook was not changed:\n{current['cell'].source}\n", file=sys.stderr)
        raise
    write_nb(nb, fn)
    print(f"ran {fn.name}; outputs saved (cells flagged {sorted(skip) or 'nothing'} kept their old outputs)")


if __name__ == "__main__":
    main()
