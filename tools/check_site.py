r"""Check the documentation site in a real browser: pages, links, math, plots, and no network use.

    python tools/check_site.py                     # build _site/ with tools/docs.py, then check it
    python tools/check_site.py --allow-missing     # notebooks listed in sidebar.yml but not written yet are no failure
    python tools/check_site.py --no-build          # check the site already in _site/
    python tools/check_site.py --site DIR --no-build
    python tools/check_site.py --nbs DIR           # build from another notebooks folder (with its own sidebar.yml)
    python tools/check_site.py --file              # open pages as file:// URLs instead of over loopback HTTP
    python tools/check_site.py --math-page gradcheck.html --plot-page data.html   # pages for the screenshots
    python tools/check_site.py --no-browser        # only the checks that need no browser

Checks, each counted as passed or failed:
- build: `tools/docs.py` built every page with no error (skipped with --no-build);
- pages: every notebook in `nbs/` has its page (and `index.html` exists), every notebook `sidebar.yml` lists
  exists (unless --allow-missing), every page has the navigation sidebar;
- offline: no page loads a script, style sheet, image or font from another host; MathJax is bundled;
- links, one check per page: every link to a local file exists, and every `#fragment` (`core.html#check_tensor`,
  `#checking-tensors`) is an id on the target page, and no Markdown link syntax `](...)` is left in the text
  (a link written inside a link's text, e.g. around a backticked name that nbdev links by itself);
- browser, one check per page: headless Chromium opens the page (served on 127.0.0.1, every other host
  unreachable), waits for the load event and for MathJax's queue to empty, then checks in the DOM that every
  TeX formula was typeset (`.MathJax` frames = `script[type^="math/tex"]`), that there is no MathJax error
  (`merror`, "Math Processing Error", unknown macros shown in red), that no raw TeX (`$$`, `$\frac..$`, `\(`,
  `\begin{`) is left in the visible text, that the sidebar is there and that every embedded image displays,
  and that every formula inside a table cell renders on one line: MathJax did not break it into lines, and it is
  no taller than the same formula typeset again outside any table (a formula squeezed into a narrow cell and
  broken after every symbol is several times taller);
- screenshots (in `screenshots/`, gitignored): `home.png` (index.html), `derivation.png` (the page with the most
  display math, or --math-page; it must have typeset math), `plot.png` (the first page in sidebar order with an
  embedded PNG, or --plot-page, scrolled to the image; the PNG must be valid).
Prints one PASS/FAIL line per check and ends with `N passed, N failed`; exit status 1 when any check failed.

Chromium runs headless with a new profile in a temporary directory, driven over the DevTools protocol through a
pipe (no extra Python package needed). Install it on Debian/Ubuntu with
`apt-get update && apt-get install -y chromium`, or point CHROMIUM at a Chrome/Chromium binary.
"""

import argparse, base64, functools, html.parser, importlib.util, os, re, shutil, struct
import subprocess, sys, tempfile, threading, time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
INSTALL_HINT = ("Chromium was not found. Install it with `apt-get update && apt-get install -y chromium` "
                "(Debian/Ubuntu; `chromium-browser` on some Ubuntu releases), or set CHROMIUM=/path/to/chrome. "
                "Use --no-browser to run only the checks that need no browser.")


def load_docs():
    "Import tools/docs.py as a module."
    spec = importlib.util.spec_from_file_location("convnets_docs", ROOT / "tools" / "docs.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


class Results:
    def __init__(self): self.items = []
    def add(self, ok, name, detail=""):
        self.items.append((bool(ok), name, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}", flush=True)
        return ok
    @property
    def passed(self): return sum(ok for ok, *_ in self.items)
    @property
    def failed(self): return sum(not ok for ok, *_ in self.items)


# ---------------------------------------------------------------- static HTML
class PageParser(html.parser.HTMLParser):
    "Ids, links, resources and embedded images of one page."
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.resources, self.images, self.sidebar = set(), [], [], [], False
        self.raw_links, self.skip = [], 0   # raw_links: Markdown link syntax left in the text (a link inside a link's text)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("code", "pre", "script", "style"): self.skip += 1
        for k in ("id", "name" if tag == "a" else None):
            if k and a.get(k): self.ids.add(a[k])
        if tag == "a" and a.get("href") is not None: self.links.append(a["href"])
        if tag == "nav" and "site-sidebar" in (a.get("class") or ""): self.sidebar = True
        if tag in ("script", "img") and a.get("src"): self.resources.append(a["src"])
        if tag == "link" and a.get("href"): self.resources.append(a["href"])
        if tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,"):
            self.images.append(a["src"])
    def handle_endtag(self, tag):
        if tag in ("code", "pre", "script", "style"): self.skip = max(0, self.skip - 1)
    def handle_data(self, data):
        if not self.skip and re.search(r"\]\((https?:|[\w./-]+\.html)", data): self.raw_links.append(data.strip()[:80])


def parse_page(path):
    p = PageParser(); p.feed(path.read_text(encoding="utf-8")); return p


def png_size(data_uri):
    "Width and height of a base64 PNG data URI, or None when it is not a valid PNG."
    try: raw = base64.b64decode(data_uri.split(",", 1)[1], validate=False)
    except Exception: return None
    if raw[:8] != b"\x89PNG\r\n\x1a\n" or raw[12:16] != b"IHDR": return None
    return struct.unpack(">II", raw[16:24])


def is_local(url):
    s = urlsplit(url)
    return not s.scheme and not s.netloc and not url.startswith(("//", "mailto:", "javascript:", "data:"))


def check_links(site, pages, parsed, res):
    "Every local link points at an existing file and, with a fragment, at an existing id."
    for page in pages:
        bad, n = [], 0
        for href in parsed[page].links:
            if not is_local(href): continue
            s = urlsplit(href)
            target = page if not s.path else os.path.normpath(os.path.join(os.path.dirname(page), unquote(s.path)))
            n += 1
            if target.endswith("/") or not (site / target).exists():
                bad.append(f"{href} (no file {target})"); continue
            frag = unquote(s.fragment)
            if frag and target.endswith(".html"):
                ids = parsed[target].ids if target in parsed else parse_page(site / target).ids
                if frag not in ids: bad.append(f"{href} (no id '{frag}' in {target})")
        for src in parsed[page].resources:
            if is_local(src):
                n += 1
                if not (site / urlsplit(src).path).exists(): bad.append(f"{src} (missing resource)")
        hint = ("\n      (nbdev links a backticked API name such as `Model.save` to the heading of its show_doc: add "
                "a show_doc cell for it in its notebook, or drop the backticks)") if any(re.search(r"no id '\w+\.", b) for b in bad) else ""
        bad += [f"Markdown link syntax in the text: {t!r} (a link inside a link's text? nbdev links a backticked API name by itself: "
                "write `Name`, not [`Name`](page.html#name))" for t in parsed[page].raw_links]
        res.add(not bad, f"links {page}", f"{n} local links resolve" if not bad else
                f"{len(bad)} of {n} broken: " + "; ".join(sorted(set(bad))[:8]) + (" ..." if len(set(bad)) > 8 else "") + hint)


# ---------------------------------------------------------------- browser
def find_chromium():
    for c in [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        if c and shutil.which(c): return shutil.which(c)
    return None


class Browser:
    """Headless Chromium driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: JSON
    messages ending in a NUL byte on file descriptors 3 and 4), so no websocket library is needed. Every host
    but 127.0.0.1 is unreachable, and the profile is a new temporary directory."""
    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--disable-dev-shm-usage",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--remote-debugging-pipe"]

    def __init__(self, binary, timeout=30):
        import fcntl, json, queue
        self.json, self.timeout, self.n = json, timeout, 0
        self.profile = tempfile.mkdtemp(prefix="check_site_chromium_")
        r, w_ours = os.pipe(); r_ours, w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4; move our ends out of the way first.
        fd_in, fd_out = fcntl.fcntl(r, fcntl.F_DUPFD, 10), fcntl.fcntl(w, fcntl.F_DUPFD, 10)
        os.close(r); os.close(w)
        self.log = open(os.path.join(self.profile, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{fd_in} 4>&{fd_out} {fd_in}<&- {fd_out}>&-', binary,
             *self.FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(fd_in, fd_out), stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(fd_in); os.close(fd_out)
        self.out, self.inp = os.fdopen(w_ours, "wb"), os.fdopen(r_ours, "rb")
        self.replies, self.events = {}, queue.Queue()
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        pages = [t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page"]
        target = pages[0]["targetId"] if pages else self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Runtime.enable", session=True)

    def _read(self):
        buf = b""
        while True:
            chunk = self.inp.read1(1 << 16)
            if not chunk: break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = self.json.loads(raw)
                if "id" in msg:
                    with self.cv: self.replies[msg["id"]] = msg; self.cv.notify_all()
                else: self.events.put(msg)
        with self.cv: self.replies[-1] = None; self.cv.notify_all()

    def send(self, method, params=None, session=False, timeout=None):
        self.n += 1; i = self.n
        msg = {"id": i, "method": method, "params": params or {}}
        if session: msg["sessionId"] = self.session
        self.out.write(self.json.dumps(msg).encode() + b"\0"); self.out.flush()
        with self.cv:
            if not self.cv.wait_for(lambda: i in self.replies or -1 in self.replies, timeout or self.timeout):
                raise TimeoutError(f"Chromium did not answer {method} within {timeout or self.timeout}s")
            if i not in self.replies: raise RuntimeError("Chromium exited")
            reply = self.replies.pop(i)
        if "error" in reply: raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def eval(self, expression, timeout=None):
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                      session=True, timeout=timeout)
        if "exceptionDetails" in r:
            raise RuntimeError(f"script error: {r['exceptionDetails'].get('exception', {}).get('description', r['exceptionDetails'])}")
        return r["result"].get("value")

    def open(self, url, width=1280, height=1400):
        "Load `url`, wait for the load event and for MathJax to finish typesetting; return the seconds taken."
        t = time.time()
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        while not self.events.empty(): self.events.get_nowait()
        self.send("Page.navigate", {"url": url}, session=True)
        deadline = time.time() + self.timeout
        while True:
            left = deadline - time.time()
            if left <= 0: raise TimeoutError(f"{url} did not finish loading within {self.timeout}s")
            try: ev = self.events.get(timeout=left)
            except Exception: continue
            if ev.get("method") == "Page.loadEventFired": break
        state = self.eval("""new Promise(done => {
            if (!window.MathJax || !MathJax.Hub) return done("no MathJax");
            MathJax.Hub.Queue(() => done("typeset"));
        })""", timeout=self.timeout)
        return state, time.time() - t

    def screenshot(self, path, selector=None):
        "Save a PNG of the viewport, first scrolling the element `selector` (if any) to the middle of it."
        if selector:
            self.eval(f"(() => {{ const e = document.querySelector({self.json.dumps(selector)});"
                      " if (e) e.scrollIntoView({block: 'center'}); return !!e; })()")
            self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try: self.send("Browser.close", timeout=5)
        except Exception: pass
        try: self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill(); self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# What MathJax left in the page: typeset formulas, errors, raw TeX in the visible text, the sidebar, images.
PAGE_REPORT = r"""(() => {
  const tex = document.querySelectorAll('script[type^="math/tex"]').length;
  const rendered = document.querySelectorAll('.MathJax[id$="-Frame"], .MathJax_SVG[id$="-Frame"], .MathJax_CHTML[id$="-Frame"], mjx-container').length;
  const merror = document.querySelectorAll('.merror, merror, [data-mjx-error]').length;
  const skip = 'SCRIPT,STYLE,PRE,CODE,TEXTAREA,NOSCRIPT';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: n => {
    for (let e = n.parentElement; e; e = e.parentElement) {
      if (skip.includes(e.tagName) || (e.className && typeof e.className === 'string' && /MathJax|MJX/.test(e.className)))
        return NodeFilter.FILTER_REJECT;
    }
    return NodeFilter.FILTER_ACCEPT; }});
  let text = [];
  while (walker.nextNode()) text.push(walker.currentNode.nodeValue);
  // TeX errors: MathJax shows a parse error as <merror> and an unknown macro (noUndefined) as red text.
  const bad = n => !!n && ((n.type === 'mtext' && n.mathcolor === 'red') || n.type === 'merror' || (n.data || []).some(bad));
  const tex_errors = (window.MathJax && MathJax.Hub) ? MathJax.Hub.getAllJax().filter(j => bad(j.root)).map(j => j.originalText) : [];
  const imgs = [...document.querySelectorAll('img[src^="data:image/png"]')];
  return {tex, rendered, merror, tex_errors, text: text.join(' '),
          mpe: document.body.innerText.includes('Math Processing Error'),
          sidebar: !!document.querySelector('nav.site-sidebar'),
          images: imgs.length, broken_images: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length};
})()"""

# Formulas inside table cells: each must render on one line. MathJax 2 marks a formula it broke into lines
# (`isMultiline` on a node of its element tree, class MathJax_FullWidth on its frame); independently of the
# renderer, the formula's box must be no taller than the same TeX typeset alone, outside any table, where
# nothing limits its width (TABLE_MATH_TOLERANCE times that height, plus a pixel for rounding).
TABLE_MATH_TOLERANCE = 1.25
TABLE_MATH_REPORT = r"""new Promise(done => {
  const scripts = [...document.querySelectorAll('td script[type^="math/tex"], th script[type^="math/tex"]')];
  if (!scripts.length || !window.MathJax || !MathJax.Hub) return done({n: 0, bad: []});
  const box = el => { const f = el && document.getElementById(el.id + '-Frame');
                      return f ? (f.querySelector('.math') || f) : null; };
  const multiline = n => !!n && (n.isMultiline || (n.data || []).some(multiline));
  // The same formulas again, each in its own block of a wide, invisible box at the top of the page.
  const ref = document.createElement('div');
  ref.style.cssText = 'position:absolute; left:0; top:0; width:4000px; visibility:hidden';
  const copies = scripts.map(s => { const d = document.createElement('div'), c = document.createElement('script');
    c.type = 'math/tex'; c.text = s.textContent; d.appendChild(c); ref.appendChild(d); return c; });
  document.body.appendChild(ref);
  MathJax.Hub.Queue(['Typeset', MathJax.Hub, ref], () => {
    const bad = [];
    scripts.forEach((s, i) => {
      const b = box(s), r = box(copies[i]), jax = MathJax.Hub.getJaxFor(s);
      if (!b) return;
      const h = b.getBoundingClientRect().height, h1 = r ? r.getBoundingClientRect().height : 0;
      const frame = document.getElementById(s.id + '-Frame');
      const broken = (jax && multiline(jax.root)) || frame.classList.contains('MathJax_FullWidth');
      if (broken || (h1 > 0 && h > %(tol)s * h1 + 1))
        bad.push({tex: s.textContent.trim().slice(0, 60), ratio: h1 > 0 ? h / h1 : null, broken});
    });
    MathJax.Hub.getAllJax(ref).forEach(j => j.Remove()); ref.remove();
    done({n: scripts.length, bad});
  });
})""" % {"tol": TABLE_MATH_TOLERANCE}

def table_math_problems(t):
    "Problems in a TABLE_MATH_REPORT: formulas in table cells that do not render on one line."
    if not t["bad"]: return []
    ex = "; ".join(f"{b['tex']!r} " + (f"{b['ratio']:.1f}x its one-line height" if b["ratio"] else "")
                   + (" (MathJax broke it into lines)" if b["broken"] else "") for b in t["bad"][:3])
    return [f"{len(t['bad'])} of {t['n']} formulas in table cells wrap onto several lines, e.g. {ex} "
            "(keep math in tables on one line: see nbs/styles.css and the MathJax line-breaking setting in tools/docs.py)"]


_re_raw_tex = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|\$[^$\n]{0,200}?\\[A-Za-z]+[^$\n]{0,200}?\$")

def page_problems(r):
    "Problems in a PAGE_REPORT: an empty list when the math rendered and the sidebar is there."
    problems = []
    if r["mpe"]: problems.append("'Math Processing Error' in the page")
    if r["merror"]: problems.append(f"{r['merror']} MathJax error element(s) (merror)")
    if r["tex_errors"]:
        problems.append(f"{len(r['tex_errors'])} formula(s) with TeX errors or unknown macros: "
                        + "; ".join(repr(t.strip()[:80]) for t in r["tex_errors"][:5]))
    if r["rendered"] < r["tex"]: problems.append(f"only {r['rendered']} of {r['tex']} formulas typeset")
    raw = [m.group(0) for m in _re_raw_tex.finditer(r["text"])]
    if raw:
        i = r["text"].find(raw[0])
        problems.append(f"raw TeX left in the text ({len(raw)}x), e.g. ...{r['text'][max(0, i-40):i+60]!r}")
    if not r["sidebar"]: problems.append("no navigation sidebar")
    if r["broken_images"]: problems.append(f"{r['broken_images']} of {r['images']} embedded images do not display")
    return problems


def serve(site):
    "Serve `site` on 127.0.0.1 (a free port) in a background thread; return (server, base URL)."
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


# ---------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", default=str(ROOT / "_site"), help="the site directory (default: _site/)")
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="notebooks directory with sidebar.yml (default: nbs/)")
    ap.add_argument("--no-build", action="store_true", help="check the site as it is, without building it first")
    ap.add_argument("--allow-missing", action="store_true",
                    help="pages that sidebar.yml lists but whose notebook does not exist yet are not failures")
    ap.add_argument("--file", action="store_true", help="open pages as file:// URLs instead of over loopback HTTP")
    ap.add_argument("--no-browser", action="store_true", help="skip the checks that need Chromium")
    ap.add_argument("--math-page", help="page for the derivation screenshot (default: the one with most display math)")
    ap.add_argument("--plot-page", help="page for the plot screenshot (default: the first page with an embedded PNG)")
    ap.add_argument("--screenshots", default=str(ROOT / "screenshots"), help="where screenshots go (default: screenshots/)")
    a = ap.parse_args(argv)
    t0 = time.time()
    site, nbs, res = Path(a.site).resolve(), Path(a.nbs).resolve(), Results()
    docs = load_docs()

    # -- build
    if not a.no_build:
        import warnings; warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        print(f"Building the site with tools/docs.py ...", flush=True)
        try: errors = docs.build(nbs, site, strict=False, quiet=True)
        except docs.BuildError as e: errors = [str(e)]
        res.add(not errors, "build", f"tools/docs.py built the site in {time.time()-t0:.0f}s" if not errors else
                f"{len(errors)} error(s):\n      " + "\n      ".join(e.replace("\n", "\n      ") for e in errors))

    # -- pages
    notebooks = docs.find_notebooks(nbs)
    entries = docs.read_sidebar(nbs / "sidebar.yml") if (nbs / "sidebar.yml").exists() else []
    listed = [e[1] for e in entries if e[0] == "page"]
    existing = sorted(site.glob("*.html")) if site.exists() else []
    built = [p.name for p in existing]
    want = {nb: docs.quarto_page_name(nb) for nb in notebooks}
    missing = [f"{nb} -> {pg}" for nb, pg in want.items() if pg not in built]
    res.add(bool(entries), "sidebar.yml", f"{len(listed)} pages listed" if entries else f"no {nbs/'sidebar.yml'}")
    res.add(not missing and "index.html" in built, "pages for notebooks",
            f"{len(notebooks)} notebooks, {len(built)} pages" if not missing else "no page for " + ", ".join(missing))
    unwritten = [p for p in listed if p not in notebooks]
    if unwritten:
        msg = f"sidebar.yml lists {len(unwritten)} notebook(s) that do not exist: {', '.join(unwritten)}"
        if a.allow_missing: print(f"note  {msg} (allowed by --allow-missing)")
        else: res.add(False, "pages for sidebar.yml", msg + " (use --allow-missing while they are being written)")
    elif listed: res.add(True, "pages for sidebar.yml", f"all {len(listed)} listed notebooks exist")
    if not existing:
        res.add(False, "site", f"no pages in {site}")
        return finish(res, t0)
    order = [want[p] for p in listed if p in want and want[p] in built] + sorted(set(built) - set(want.get(p) for p in listed))
    parsed = {p: parse_page(site / p) for p in built}
    nosb = [p for p in built if not parsed[p].sidebar]
    res.add(not nosb, "sidebar on every page", "all pages" if not nosb else "missing on " + ", ".join(nosb))

    # -- offline
    remote = {p: docs.remote_resources((site / p).read_text(encoding="utf-8")) for p in built}
    remote = {p: r for p, r in remote.items() if r}
    mj = (site / "mathjax" / "MathJax.js").exists()
    res.add(not remote and mj, "offline", "no page loads anything from another host; MathJax bundled" if not remote and mj
            else ("" if mj else "no mathjax/MathJax.js in the site; ") + "; ".join(f"{p}: {', '.join(r[:3])}" for p, r in remote.items()))

    # -- links
    check_links(site, order, parsed, res)

    # -- browser
    if a.no_browser:
        print("note  browser checks skipped (--no-browser)")
        return finish(res, t0)
    binary = find_chromium()
    if not binary:
        res.add(False, "browser", INSTALL_HINT)
        return finish(res, t0)
    srv = browser = None
    if a.file: base = site.as_uri() + "/"
    else: srv, base = serve(site)
    try:
        t1 = time.time()
        try: browser = Browser(binary)
        except Exception as e:
            res.add(False, "browser", f"could not start {binary}: {e}")
            return finish(res, t0)
        print(f"Opening {len(order)} pages in {binary} (headless) via {base} ...", flush=True)
        reports = {}
        for page in order:
            try:
                state, secs = browser.open(base + page)
                r = reports[page] = browser.eval(PAGE_REPORT)
                problems = page_problems(r)
                if state != "typeset": problems.append(f"MathJax did not run ({state})")
                t = r["table_math"] = browser.eval(TABLE_MATH_REPORT, timeout=browser.timeout)
                problems += table_math_problems(t)
            except Exception as e:
                problems, secs = [f"{type(e).__name__}: {e}"], 0
            res.add(not problems, f"browser {page}",
                    f"{reports[page]['rendered']} formulas typeset, no MathJax errors, no raw TeX"
                    f"{', the %d in tables on one line' % reports[page]['table_math']['n'] if page in reports and reports[page].get('table_math', {}).get('n') else ''}"
                    f"{', %d plots shown' % reports[page]['images'] if page in reports and reports[page]['images'] else ''}"
                    f" ({secs:.1f}s)" if not problems else "; ".join(problems))
        print(f"      ({time.time()-t1:.0f}s for {len(order)} pages)")

        # -- screenshots
        shots = Path(a.screenshots); shots.mkdir(parents=True, exist_ok=True)
        def shot(name, page, selector=None):
            out = shots / f"{name}.png"
            if out.exists(): out.unlink()
            try:
                browser.open(base + page)
                browser.screenshot(out, selector)
                ok, detail = out.stat().st_size > 5000, f"{page} -> {out}"
            except Exception as e: ok, detail = False, f"{page}: {type(e).__name__}: {e}"
            res.add(ok, f"screenshot {name}", detail)
        if "index.html" in built: shot("home", "index.html")
        else: res.add(False, "screenshot home", "no index.html")

        math_page = a.math_page
        if not math_page:   # the page with the most display math
            counts = {p: (site / p).read_text(encoding="utf-8").count("$$") for p in order if p != "index.html"}
            math_page = max(counts, key=counts.get) if counts and max(counts.values()) else None
        r = reports.get(math_page)
        if r and r["rendered"] > 0 and not page_problems(r):
            res.add(True, "derivation page", f"{math_page}: {r['rendered']} formulas typeset, none raw")
            shot("derivation", math_page, ".MathJax_Display")
        else: res.add(False, "derivation page", f"no page with typeset math ({math_page or 'none found'})")

        plot_page = a.plot_page or next((p for p in order if parsed.get(p) and parsed[p].images), None)
        if plot_page and plot_page in parsed and parsed[plot_page].images:
            sizes = [png_size(s) for s in parsed[plot_page].images]
            bad = sum(s is None for s in sizes)
            shown = reports.get(plot_page, {}).get("images", 0) - reports.get(plot_page, {}).get("broken_images", 0)
            res.add(not bad and shown == len(sizes), "plot page",
                    f"{plot_page}: {len(sizes)} embedded PNG(s) shown, first {sizes[0][0]}x{sizes[0][1]} px"
                    if not bad else f"{plot_page}: {bad} of {len(sizes)} embedded images are not valid PNGs")
            shot("plot", plot_page, 'img[src^="data:image/png"]')
        else: res.add(False, "plot page", f"no page with an embedded PNG plot{' (' + plot_page + ')' if plot_page else ''}")
    finally:
        if browser: browser.close()
        if srv: srv.shutdown()
    return finish(res, t0)


def finish(res, t0):
    print(f"\n{res.passed} passed, {res.failed} failed ({time.time()-t0:.0f}s)")
    if res.failed:
        print("Failed: " + ", ".join(n for ok, n, _ in res.items if not ok))
    return 1 if res.failed else 0


if __name__ == "__main__":
    rc = main()
    # nbdev's show_doc step leaves an IPython shell per notebook; their exit hooks only save command history
    # (to ~/.ipython) and take seconds, so leave without running them.
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(rc)
