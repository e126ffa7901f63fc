#!/usr/bin/env python
"""Every GPU figure the open issues ask for, in one call that fits a lent GPU machine's few minutes (see tools/gpu_check.sh).

    python tools/gpu_bench.py --deadline 420            # on the GPU machine, through the device tool (writes under $OUT)
    python tools/gpu_bench.py --smoke --device cpu      # here: the same steps at toy sizes, to check the script end to end

Steps, most important first; each starts only while the deadline leaves room for it (judged from the last run of its kind),
and each result is appended to $OUT/results.jsonl the moment it is measured, so a run cut off by the time limit keeps what it finished:

1. the machine (GPU, driver, torch, CPU) and a correctness check: `AirbenchNet`'s loss and gradients on the device against float64
   on the CPU, and its bfloat16 pass against its `torch.nn` twin under autocast; then, in a process of its own, its steps replayed as
   CUDA graphs (`CaptureStep`) against ordinary ones (a capture that fails cannot spoil this process's GPU state);
2. `convnets-train --preset airbench94-muon` and `--preset airbench94`, ours, seeds 0-4, alternating the two recipes (issue 12: 94 % and its time);
   after seed 0, in processes of their own: airbench94 with `--capture on`, and `python -m convnets.bench --capture` for `course` and
   `airbench94` (issue 11: the sync-free and the captured step against ours and torch eager) into $OUT/bench_capture.json;
3. the same recipes' `torch.nn` twins (channels-last, the precision ours chose), seeds 0-2 (issue 12: at least torch.nn);
4. `python -m convnets.bench --device cuda` (issue 11: images/s, memory, aten calls against torch eager and compiled) into $OUT/bench.json;
5. `convnets-train --preset hlb` (hlb-CIFAR10's recipe, notebook hlb), ours and its twin, seed 0, where time is left.

Accuracies are test accuracies on CIFAR-10 (the JPEG-rebuilt copy where `../shared/data/cifar10.py` built it), with the recipe's
test-time augmentation and without. Training seconds exclude evaluation and start-up, as the airbench records count them.
"""
import argparse, contextlib, io, json, os, subprocess, sys, tempfile, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                 # the package from this tree, not an installed copy


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deadline", type=float, default=420.0, help="seconds from the start after which no new step starts (default: 420)")
    p.add_argument("--out", default=os.environ.get("OUT") or "/tmp/gpu-bench", help="folder for results.jsonl and bench.json (default: $OUT)")
    p.add_argument("--device", default="cuda", help="'cuda' (default) or 'cpu' (with --smoke, to try the script)")
    p.add_argument("--seeds", type=int, default=5, help="seeds of our runs (default: 5); the twins get min(3, this)")
    p.add_argument("--smoke", action="store_true", help="toy sizes (narrow network, a few steps, 2,000 images): checks the script, measures nothing")
    p.add_argument("--child", choices=("captured_check",), help=argparse.SUPPRESS)   # a step run in a process of its own (see `child`)
    a = p.parse_args(argv)
    import torch
    if a.child == "captured_check":
        from convnets.airbench import AirbenchNet
        from convnets.gradcheck import reset_seed
        reset_seed(0)
        m = AirbenchNet(widths=(16, 32, 32), device=a.device).init_whitening(torch.randn(32, 3, 32, 32))
        print(json.dumps(captured_check(torch.device(a.device), m))); return
    from convnets.bench import machine_info
    t0, out = time.perf_counter(), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "results.jsonl"
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available(): sys.exit("No CUDA device here; try the script with --smoke --device cpu.")

    def record(kind, **fields):
        line = json.dumps({"kind": kind, "at_s": round(time.perf_counter() - t0, 1), **fields})
        with open(log, "a") as f: f.write(line + "\n")
        print(line, flush=True)

    def left(): return a.deadline - (time.perf_counter() - t0)

    info = machine_info(device)
    if device.type == "cuda":
        info["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version,power.limit", "--format=csv,noheader"],
                                            capture_output=True, text=True).stdout.strip()
    record("machine", smoke=a.smoke, **info)
    step(record, "check", lambda: check(device))
    step(record, "captured_check", lambda: child(["--child", "captured_check", "--device", str(device)], timeout=300))

    presets = ("airbench94-muon", "airbench94")
    plan = [(pr, "ours", s) for s in range(a.seeds) for pr in presets]
    plan[2:2] = [("airbench94", "ours_captured", 0), ("bench_capture", None, 0)]   # after seed 0: the captured recipe and the captured-step table
    plan += [(pr, "torch", s) for s in range(min(3, a.seeds)) for pr in presets]
    plan += [("bench", None, 0), ("hlb", "ours", 0), ("hlb", "torch", 0)]   # the whole table; then hlb-CIFAR10's recipe, which no issue asks for
    took = {}                                            # (preset, impl) -> seconds of its last run, to judge whether the next fits
    for preset, impl, seed in plan:
        if preset in ("bench", "bench_capture"):
            bench(record, device, out, a.smoke, left, capture=preset == "bench_capture"); continue
        need = took.get((preset, impl), took.get((preset, "ours")))
        if need is None:                                 # a first run: hlb's from airbench94's (12.6 epochs of a wider network against 9.9), the others unknown
            need = 1.5 * took.get(("airbench94", impl), 60.0) if preset == "hlb" else 0.0
        if left() < need:
            record("skipped", preset=preset, impl=impl, seed=seed, reason=f"{left():.0f} s left, about {need:.0f} s needed (the last such run, or an estimate)"); continue
        s0 = time.perf_counter()
        step(record, "recipe", lambda: recipe(preset, impl, seed, device, a.smoke), preset=preset, impl=impl, seed=seed)
        took[(preset, impl)] = time.perf_counter() - s0
    record("done", seconds=round(time.perf_counter() - t0, 1))


def _env(): return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def bench(record, device, out, smoke, left, capture=False):
    "`python -m convnets.bench` in a process of its own: the whole table (with the compiled twin), or with `capture` the sync-free and captured rows."
    name = "bench_capture" if capture else "bench"
    if not (left() > 60 or smoke): record("skipped", what=name, reason=f"{left():.0f} s left"); return
    cmd = [sys.executable, "-m", "convnets.bench", "--device", str(device), "--json", str(out / f"{name}.json")]
    if capture: cmd += ["--capture", "--models", "course", "airbench-cpu" if smoke else "airbench94", "--skip", "memory", "conv", "batchnorm"]
    elif not smoke: cmd += ["--compile"]
    if smoke: cmd += ([] if capture else ["--models", "course", "airbench-cpu", "--skip", "memory", "conv", "batchnorm"]) + ["--steps", "2", "--rounds", "1"]
    s0 = time.perf_counter()
    try: r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=None if smoke else max(left(), 30))
    except subprocess.TimeoutExpired as e: record("error", what=name, error=f"timed out after {e.timeout:.0f} s"); return
    (out / f"{name}.txt").write_text(r.stdout + r.stderr)
    record(name, rc=r.returncode, seconds=round(time.perf_counter() - s0, 1), file=f"{name}.json", tail=(r.stdout + r.stderr)[-2000:])


def child(args, timeout):
    "Run this script with `args` in a fresh process (`--child`); its last output line is a JSON object of results."
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=timeout)
    if r.returncode: raise RuntimeError(f"exit {r.returncode}: {(r.stdout + r.stderr)[-1500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def step(record, kind, fn, **keys):
    "Run one step; record its result, or its error (the next steps still run)."
    try: record(kind, **keys, **fn())
    except Exception as e: record("error", what=kind, **keys, error=f"{type(e).__name__}: {e}", trace=traceback.format_exc()[-3000:])


def check(device):
    "AirbenchNet on `device` against float64 on the CPU, and its bfloat16 pass against its torch.nn twin under autocast (where bfloat16 runs)."
    import torch
    from convnets.airbench import AirbenchNet
    from convnets.gradcheck import reset_seed, rel_error
    from convnets.bench import torch_twin
    reset_seed(0)
    X, y = torch.randn(32, 3, 32, 32, dtype=torch.float64), torch.randint(10, (32,))
    m64 = AirbenchNet(widths=(16, 32, 32), dtype=torch.float64).init_whitening(X)
    m32 = AirbenchNet(widths=(16, 32, 32), device=device); m32.params = {k: v.to(device, torch.float32) for k, v in m64.params.items()}
    (l64, g64), (l32, g32) = m64.loss(X, y), m32.loss(X.to(device, torch.float32), y.to(device))
    res = {"float32_vs_float64": {"loss": abs(float(l64) - float(l32)), "grads": max(rel_error(g64[k], g32[k].double().cpu()) for k in g64)}}
    mb = AirbenchNet(widths=(16, 32, 32), device=device, compute_dtype=torch.bfloat16); mb.params = dict(m32.params)
    tw = torch_twin(m32, channels_last=True); tw.autocast = torch.bfloat16
    (lb, gb), (lt, gt) = mb.loss(X.to(device, torch.float32), y.to(device)), tw.loss(X.to(device, torch.float32), y.to(device))
    gt = {k: tw.ours(k, gt[tw.names[k]]) for k in g64}                  # the twin's gradients in our names and layout
    res["bfloat16_vs_float64"] = {"ours": max(rel_error(gb[k].double().cpu(), g64[k]) for k in g64),
                                  "autocast": max(rel_error(gt[k].double().cpu(), g64[k]) for k in g64)}
    return res


def captured_check(device, model, steps=8):
    "Eight SGD steps of `model` replayed by `CaptureStep` (CUDA graphs on a GPU, `ReplayGraph` elsewhere) against eight ordinary steps with device scalars, from the same weights on the same batch."
    import copy, torch
    from convnets.capture import CaptureStep
    from convnets.gradcheck import rel_error
    from convnets.learner import Learner
    from convnets.optim import SGDAll
    X, y = torch.randn(32, 3, 32, 32, device=device), torch.randint(10, (32,), device=device)
    out = {}
    for name, cs in (("ordinary", CaptureStep(warmup=10**9)), ("captured", CaptureStep())):
        m = copy.deepcopy(model)
        learn = Learner(m, (), SGDAll(nesterov=True), {"learning_rate": 0.05, "momentum": 0.85, "weight_decay": 5e-4})
        learn.add_cb(cs).install()
        for s in range(steps):
            for c in learn.optim_configs.values(): c["learning_rate"] = 0.05 * (1 - s / steps)   # a rate that changes every step
            learn.train_step(X, y)
        cs.check()
        out[name] = (m, dict(cs.counts))
    (a, _), (b, counts) = out["ordinary"], out["captured"]
    return {"params": max(rel_error(a.params[k].double(), b.params[k].double()) for k in a.params), "counts": counts}


def recipe(preset, impl, seed, device, smoke):
    "One run of `preset` (ours: `convnets.train.run`; torch: its twin, `train_torch_twin`): its figures."
    import torch
    from convnets.train import parse_config, run
    from convnets.bench import train_torch_twin
    argv = ["--preset", preset, "--device", str(device), "--seed", str(seed), "--quiet", "--checkpoint-every", "1e9", "--out", tempfile.mkdtemp(prefix=f"{preset}-")]
    if smoke: argv += ["--widths", "8", "16", "16", "--epochs", "0.5", "--batch-size", "250", "--limit-train", "2000", "--limit-test", "500", "--validation-size", "200"]
    cfg = parse_config(argv)
    if device.type == "cuda": torch.cuda.reset_peak_memory_stats(device)
    if impl == "ours_captured":                          # CUDA graphs (`CaptureStep`) in a process of its own; on the CPU (--smoke) the trainer refuses it, which the record shows
        r = subprocess.run([sys.executable, "-m", "convnets.train", *argv, "--capture", "on"], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=900)
        if r.returncode: raise RuntimeError(f"convnets-train --capture on: exit {r.returncode}: {(r.stdout + r.stderr)[-1500:]}")
        m = json.loads((Path(cfg["out"]) / "metrics.json").read_text())
    elif impl == "ours":
        with contextlib.redirect_stdout(io.StringIO()): m = run(cfg, log=lambda *a, **k: None)
    else: m = train_torch_twin(cfg, channels_last=True)
    res = {k: m.get(k) for k in ("steps", "train_seconds", "images_per_second", "test_acc", "test_acc_no_tta", "precision")}
    n_train = cfg.get("limit_train") or 50000 - cfg["validation_size"]
    res["epochs"] = m["steps"] / max(n_train // cfg["batch_size"], 1)          # full batches per epoch, as the learner counts them
    if device.type == "cuda" and impl != "ours_captured": res["max_memory_allocated_gb"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
    return res


if __name__ == "__main__":
    main()
