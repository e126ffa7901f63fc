#!/usr/bin/env python
"""Run every notebook in nbs/ as a test, the way `nbdev_test` does, and print a count.

    python tools/run_tests.py                  # default run: cells flagged slow/cuda are skipped
    python tools/run_tests.py --flags slow     # also run the long experiments
    python tools/run_tests.py --flags "slow cuda" --path nbs/11_fast_conv.ipynb

Each notebook runs with nbdev's own `test_nb` (same cell filtering, same flags from settings.ini),
in parallel worker processes. A notebook passes when all of its executed cells run without error.
The last line is `N passed, N failed`; the exit code is 1 when any notebook failed.
"""
import argparse, os, subprocess, sys, time, warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")


def _test_one(fn, skip, force, root):
    "Run one notebook in this process (the child side of `_run`); exit 0 on success."
    from nbdev.test import test_nb
    os.chdir(fn.parent)
    ok, _ = test_nb(fn, skip_flags=skip, force_flags=force, basepath=root, showerr=True)
    sys.exit(0 if ok else 1)


def _run(fn, skip, force, root):
    "Test notebook `fn` in a fresh Python process, so notebooks cannot affect each other."
    t0 = time.time()
    cmd = [sys.executable, "-W", "ignore", __file__, "--one", str(fn), "--skip", " ".join(skip), "--flags", " ".join(force)]
    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    return fn.name, r.returncode == 0, time.time() - t0, r.stdout + r.stderr


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", nargs="*", help="notebooks to test (default: every nbs/*.ipynb not starting with _ or .)")
    p.add_argument("--flags", default="", help="space-separated test flags to run that are skipped by default (slow, cuda)")
    p.add_argument("--n-workers", type=int, default=min(os.cpu_count() or 1, 2), help="parallel notebooks (default: 2)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--skip", default="", help=argparse.SUPPRESS)
    a = p.parse_args()
    from nbdev.config import get_config
    cfg = get_config()
    root = Path(cfg.config_path)
    if a.one: return _test_one(Path(a.one), a.skip.split(), a.flags.split(), root)
    files = [Path(f).absolute() for f in a.path] if a.path else sorted(
        f for f in (root / cfg.nbs_path).glob("*.ipynb") if not f.name.startswith(("_", ".")))
    missing = [str(f) for f in files if not f.exists()]
    if missing: sys.exit(f"No such notebook: {', '.join(missing)}")
    force = a.flags.split()
    skip = [f for f in cfg.tst_flags.split() if f not in force]
    print(f"Testing {len(files)} notebooks; skipping cells flagged {skip or 'nothing'}; workers: {a.n_workers}", flush=True)
    t0, results = time.time(), []
    with ThreadPoolExecutor(a.n_workers) as ex:
        for name, ok, secs, log in ex.map(lambda f: _run(f, skip, force, root), files):
            results.append((name, ok))
            print(f"{'PASS' if ok else 'FAIL'}  {name}  ({secs:.0f} s)", flush=True)
            if not ok: print("    " + log.strip().replace("\n", "\n    "), flush=True)
    failed = [n for n, ok in results if not ok]
    if failed: print("Failed notebooks: " + ", ".join(failed))
    print(f"Total time: {time.time() - t0:.0f} s")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
