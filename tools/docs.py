"""Build the documentation site as static HTML, offline, from the notebooks in `nbs/`.

The real site is made by Quarto (`nbdev_docs`), which cannot be installed here. This script builds the same
pages without it: one page per notebook with prose, LaTeX math, code, saved outputs and plots, plus the API
reference (`show_doc`) of every exported name, and a navigation sidebar on every page.

    python tools/docs.py                      # build the site into _site/ (open _site/index.html)
    python tools/docs.py --out /tmp/site      # another output directory (new, or one this script wrote)
    python tools/docs.py --nbs DIR            # another notebooks folder (it needs its own sidebar.yml)
    python tools/docs.py --strict             # a sidebar entry without its notebook is an error, not a warning
    python tools/docs.py --force              # ignore the cache of processed notebooks

Then check the site in a browser with `python tools/check_site.py`.

How it works:
1. The pages come from `nbs/*.ipynb`; their order and sections from `nbs/sidebar.yml` (Quarto's format, which
   nbdev leaves alone with `custom_sidebar = True`). A notebook that `sidebar.yml` does not list is an error;
   a listed notebook that does not exist yet is a warning (an error with --strict) and is left out.
2. Each notebook goes through nbdev's own processors (`nbdev.processors.FilterDefaults`, as `nbdev_docs` does):
   `#| hide` and `#| export` cells drop out, `show_doc` cells are added after exported definitions and
   executed, backticked names become links to their documentation. Like nbdev, this executes the exported
   cells, `show_doc` cells and cells with an import; other cells keep their saved outputs (plots included).
   When that execution fails, `nbdev_docs` would fail too: it is reported as an error (usually a cell that
   mixes an import with code that needs earlier cells) and the page is built without executing such cells.
3. What Quarto would interpret is translated: the title cell becomes the page header, cell options such as
   `#| echo: false` hide the code, pandoc link attributes and `:::` fences become HTML, links to the site's
   own URL and to `NN_name.ipynb` become relative links, heading ids follow pandoc's rule (so nbdev's doc links
   such as `core.html#check_tensor` resolve).
4. nbconvert's `HTMLExporter` (lab template, prompts hidden) writes each page, named as on the Quarto site
   (`00_core.ipynb` -> `core.html`, `index.ipynb` -> `index.html`), with the sidebar (this page's sections
   listed under it) and links to the previous and next pages.
5. MathJax 2.7.9 is copied from the `jupyter-server-mathjax` wheel (a dev requirement) into `<out>/mathjax/`,
   so math renders with no network access; require.js, the widget manager and mermaid are left out. The build
   fails if any page still loads a script, style sheet, image or font from another host. MathJax's automatic
   line breaking is off (as with Quarto's MathJax 3), and `nbs/styles.css`, the style sheet Quarto adds to every
   page, is added here too: it keeps math in table cells on one line and lets wide tables and formulas scroll.
Processed notebooks are cached in `<out>/.cache/`, keyed by the notebook, the package's source, settings.ini
and this script, so a rebuild only processes what changed.

Exit status 0 when every page was built and the checks passed, 1 otherwise (each problem is printed).
"""

import argparse, html, importlib.util, json, os, re, shutil, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"
# The wheel ships only the STIX-Web web fonts: tell MathJax to use them and not to look for TeX or image fonts.
# Automatic line breaking stays off, as on the Quarto site (MathJax 3 does not break lines): MathJax 2 measures
# the width available before the page is laid out, and in a table cell (still narrow then) it would break a
# formula after every symbol. A formula wider than the page scrolls sideways instead (see nbs/styles.css).
MATHJAX_FONTS = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
                                   linebreaks: {automatic: false}},
                    SVG: {font: "STIX-Web", linebreaks: {automatic: false}}, messageStyle: "none"});
</script>"""

SITE_CSS = """
body.jp-Notebook { padding: 0; margin: 0; }
.site-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 270px; overflow-y: auto; box-sizing: border-box;
  padding: 1.2em 1em 2em 1.2em; background: #f7f7f9; border-right: 1px solid #e3e3e8;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; line-height: 1.45; }
.site-sidebar .site-title { display: block; font-size: 1.35em; font-weight: 600; color: #222; text-decoration: none;
  margin-bottom: 1em; }
.site-sidebar ul { list-style: none; margin: 0; padding: 0; }
.site-sidebar li { margin: 0.15em 0; }
.site-sidebar a { color: #33415c; text-decoration: none; }
.site-sidebar a:hover { text-decoration: underline; }
.site-sidebar .sidebar-section { margin-top: 0.9em; font-weight: 600; color: #555; text-transform: uppercase;
  font-size: 0.78em; letter-spacing: 0.04em; }
.site-sidebar li.active > a { font-weight: 600; color: #0b5ed7; }
.site-sidebar ul.page-toc { margin: 0.2em 0 0.4em 0.9em; font-size: 0.92em; }
.site-sidebar ul.page-toc a { color: #666; }
.site-main { margin-left: 270px; padding: 1.5em 2.5em 3em 2.5em; max-width: 1050px; }
.site-header { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.site-header h1.title { margin-bottom: 0.2em; }
.site-header p.description { font-size: 1.15em; color: #555; margin-top: 0; }
a.source-link { float: right; font-size: smaller; }
.page-nav { display: flex; justify-content: space-between; margin-top: 3em; padding-top: 1em;
  border-top: 1px solid #e3e3e8; font-family: system-ui, sans-serif; }
@media (max-width: 900px) {
  .site-sidebar { position: static; width: auto; border-right: none; border-bottom: 1px solid #e3e3e8; }
  .site-main { margin-left: 0; padding: 1em; }
}
"""

# nbconvert's lab template, minus everything that would load from a CDN, plus the sidebar, header and footer.
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{{ resources.site.mathjax_fonts }}
{{ super() }}
{%- endblock html_head_js_mathjax -%}
{% block extra_css %}<style type="text/css">{{ resources.site.css }}</style>{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<!--SITE-SIDEBAR-->
<main class="site-main">
<header class="site-header">
<h1 class="title">{{ resources.site.title | e }}</h1>
{% if resources.site.description %}<p class="description">{{ resources.site.description | e }}</p>{% endif %}
</header>
{%- endblock body_header -%}
{% block body_footer %}
<!--SITE-PAGE-NAV-->
</main>
</body>
{% endblock body_footer %}
"""


class BuildError(Exception): pass


# ---------------------------------------------------------------- pages and sidebar
def quarto_page_name(nb_path):
    "The page Quarto writes for a notebook: a leading `NN_` is dropped (`00_core.ipynb` -> `core.html`)."
    return re.sub(r"^\d+_", "", Path(nb_path).stem) + ".html"


def find_notebooks(nbs):
    "Notebooks as nbdev finds them: `*.ipynb` under `nbs`, skipping names and folders that start with `_` or `.`."
    res = []
    for p in sorted(nbs.rglob("*.ipynb")):
        rel = p.relative_to(nbs)
        if any(part.startswith(("_", ".")) for part in rel.parts): continue
        res.append(rel.as_posix())
    return res


def read_sidebar(path):
    "Entries of a Quarto `sidebar.yml` as a list of ('section', title) and ('page', file, text or None)."
    import yaml
    if not path.exists(): raise BuildError(f"{path} is missing: it lists the pages in order (Quarto's sidebar format)")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sb = (data.get("website") or {}).get("sidebar")
    if isinstance(sb, list): sb = sb[0] if sb else {}
    contents = (sb or {}).get("contents")
    if not isinstance(contents, list):
        raise BuildError(f"{path}: expected `website: sidebar: contents:` to be a list, got {type(contents).__name__}")
    entries = []
    def walk(items):
        for it in items:
            if isinstance(it, str): entries.append(("page", it, None))
            elif isinstance(it, dict) and "section" in it:
                entries.append(("section", str(it["section"])))
                walk(it.get("contents") or [])
            elif isinstance(it, dict) and "href" in it: entries.append(("page", it["href"], it.get("text")))
            else: raise BuildError(f"{path}: cannot read the sidebar entry {it!r}")
    walk(contents)
    return entries


def first_title(nb_path):
    "Title and description from a notebook's first markdown cell (`# Title` then `> description`)."
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    for c in nb.get("cells", []):
        if c.get("cell_type") != "markdown": continue
        src = "".join(c.get("source", []))
        m = re.search(r"^#\s+(.+)$", src, re.M)
        d = re.search(r"^>\s*(.+)$", src, re.M)
        return (m.group(1).strip() if m else None), (d.group(1).strip() if d else None)
    return None, None


# ---------------------------------------------------------------- nbdev processing
def _mixed_import_cell(cell):
    """True for a cell that nbdev executes while building the docs only because it has an import, although it
    also holds other code (nbdev's FAQ advises imports in their own cells). Export and `show_doc` cells, which
    nbdev always executes, and `nbdev_export()` cells, which it never executes, are not such cells."""
    import ast
    src = cell.source or ""
    if cell.cell_type != "code" or "nbdev_export()" in src: return False
    # Before nbdev's processing the directives are in the source; during it, in `directives_`.
    opts = {k.split()[0] if k.split() else k: v for k, v in cell_options(src)[0].items()}
    for k, v in (getattr(cell, "directives_", None) or {}).items():
        opts[k.rstrip(":")] = str(v[0] if isinstance(v, (list, tuple)) and v else v).lower()
    if opts.keys() & {"export", "exports", "exporti", "exec_doc"}: return False
    if opts.get("eval") == "false": return False
    try: tree = ast.parse(src)
    except SyntaxError: return False
    if any(isinstance(t, ast.Expr) and getattr(getattr(t.value, "func", None), "id", None) == "show_doc"
           for t in tree.body): return False
    nodes = list(ast.walk(tree))
    return (any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in nodes)
            and any(isinstance(n, (ast.Expr, ast.Assign)) for n in nodes))


def process_notebook(path, safe=False):
    """Apply nbdev's docs processors to the notebook at `path`; return (notebook, frontmatter, warnings).
    With `safe`, cells that mix imports and other code are not executed (nbdev would execute them)."""
    from execnb.nbio import read_nb
    import nbdev.processors as procs
    nb = read_nb(path)
    mixed = [f"cell {i}: {c.source.strip().splitlines()[0][:70]}" for i, c in enumerate(nb.cells)
             if _mixed_import_cell(c)]
    do_eval = procs._do_eval
    if safe: procs._do_eval = lambda cell: None if _mixed_import_cell(cell) else do_eval(cell)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.environ["IN_TEST"] = "1"     # as nbdev's own docs processing does
        try: procs.FilterDefaults()(nb)
        finally:
            os.environ.pop("IN_TEST", None)
            procs._do_eval = do_eval
    msgs = [str(w.message).strip() for w in caught
            if not issubclass(w.category, DeprecationWarning) and "pkg_resources" not in str(w.message)
            and "Found cells containing imports and other code" not in str(w.message)]
    if mixed:
        msgs.append(f"{len(mixed)} cell(s) mix imports with other code, so nbdev executes them while building the "
                    f"docs{' (skipped in this fallback build)' if safe else ''}; put imports in their own cell: "
                    + "; ".join(mixed))
    return nb, dict(getattr(nb, "frontmatter_", {}) or {}), msgs


_re_directive = re.compile(r"^\s*#\s*\|\s*(.*?)\s*$")

def cell_options(src):
    "Split the leading `#| key: value` lines off a code cell: (options dict, remaining source)."
    lines, opts = src.splitlines(), {}
    i = 0
    while i < len(lines) and (_re_directive.match(lines[i]) or not lines[i].strip()):
        m = _re_directive.match(lines[i])
        if m:
            k, _, v = m.group(1).partition(":")
            opts[k.strip()] = v.strip().strip('"').strip("'").lower() if v else ""
        i += 1
    return opts, "\n".join(lines[i:])


_re_attr_link = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}")
_re_attr = re.compile(r'([\w-]+)="([^"]*)"|\.([\w-]+)|#([\w-]+)')
_re_fence = re.compile(r"^\s*:::+\s*(\{[^}]*\}|[\w.-]+)?\s*$", re.M)

def quarto_markdown(md):
    "Turn the pandoc/Quarto extras nbdev emits into HTML that nbconvert's markdown renderer keeps."
    def link(m):
        text, url, attrs = m.groups()
        a = {"href": url}; classes = []
        for k, v, cls, ident in _re_attr.findall(attrs):
            if k: a[k] = v
            elif cls: classes.append(cls)
            elif ident: a["id"] = ident
        if text.strip().lower() == "source": classes.append("source-link"); a.pop("style", None)
        if classes: a["class"] = " ".join(classes)
        return "<a " + " ".join(f'{k}="{html.escape(v)}"' for k, v in a.items()) + f">{html.escape(text)}</a>"
    md = _re_attr_link.sub(link, md)
    return _re_fence.sub("", md)


def to_nbformat(nb, frontmatter):
    "Convert an nbdev-processed notebook into an nbformat notebook that nbconvert renders like Quarto would."
    import nbformat
    from execnb.nbio import nb2str
    nb.metadata.pop("widgets", None)        # widget state needs the widget manager from a CDN; we show no widgets
    d = json.loads(nb2str(nb))
    for i, c in enumerate(d["cells"]): c.setdefault("id", f"cell-{i}")
    d["nbformat"], d["nbformat_minor"] = 4, max(d.get("nbformat_minor", 5), 5)
    out = nbformat.reads(json.dumps(d), as_version=4)
    cells = []
    for c in out.cells:
        if c.cell_type == "raw":
            if c.source.lstrip().startswith("---"): continue      # the frontmatter: shown as the page header
            cells.append(c); continue
        if c.cell_type == "markdown":
            c.source = quarto_markdown(c.source)
            cells.append(c); continue
        opts, c.source = cell_options(c.source)
        if opts.get("include") == "false": continue
        if opts.get("output") == "false": c.outputs = []
        if opts.get("echo") == "false" or not c.source.strip():
            c.metadata.setdefault("transient", {})["remove_source"] = True
        for o in c.get("outputs", []):
            if "data" in o and "text/markdown" in o.data:
                o.data["text/markdown"] = quarto_markdown(o.data["text/markdown"])
                o.data.pop("text/plain", None)       # show the rendered markdown only, as Quarto's `output: asis`
        if c.metadata.get("transient", {}).get("remove_source") and not c.get("outputs"): continue
        cells.append(c)
    out.cells = cells
    out.metadata["title"] = frontmatter.get("title", "")
    return out


# ---------------------------------------------------------------- HTML
def pandoc_id(text):
    "The identifier pandoc (and so Quarto) gives a heading with this text."
    s = re.sub(r"[^\w\s.-]", "", text, flags=re.UNICODE)
    s = "-".join(s.split()).lower()
    s = re.sub(r"^[^a-z]+", "", s)
    return s or "section"


def fix_headings(soup):
    "Give headings pandoc's ids (unique within the page), and point their anchor links at them."
    seen = {}
    for h in soup.find_all(re.compile(r"^h[1-6]$")):
        if not h.get("id") or "title" in (h.get("class") or []): continue
        anchor = h.find("a", class_="anchor-link")
        text = h.get_text(" ", strip=True)
        if anchor: text = text.replace(anchor.get_text(), "").strip()
        base = pandoc_id(text); new = base
        n = seen.get(base, 0)
        if n: new = f"{base}-{n}"
        seen[base] = n + 1
        h["id"] = new
        if anchor: anchor["href"] = "#" + new


def rewrite_links(soup, site_url, nb2page):
    "Links to the published site and to notebooks become relative links between pages."
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if site_url and href.startswith(site_url):
            href = href[len(site_url):].lstrip("/") or "index.html"
        path, sep, frag = href.partition("#")
        if path.endswith(".ipynb") and "://" not in path:
            key = re.sub(r"^(\./)+", "", path)
            if key in nb2page: path = nb2page[key]
        a["href"] = path + sep + frag


def sidebar_html(entries, current, page_titles, toc, project):
    "The navigation sidebar for page `current`, with the current page's sections listed under it."
    out = [f'<nav class="site-sidebar" aria-label="Site navigation"><a class="site-title" href="index.html">'
           f'{html.escape(project)}</a><ul>']
    for e in entries:
        if e[0] == "section":
            out.append(f'<li class="sidebar-section">{html.escape(e[1])}</li>'); continue
        page, text = e[1], e[2]
        label = text or ("Home" if page == "index.html" else page_titles.get(page, page))
        active = page == current
        cls = ' class="active"' if active else ""
        out.append(f'<li{cls}><a href="{page}">{html.escape(label)}</a>')
        if active and toc:
            out.append('<ul class="page-toc">' + "".join(
                f'<li><a href="#{i}">{html.escape(t)}</a></li>' for i, t in toc) + "</ul>")
        out.append("</li>")
    out.append("</ul></nav>")
    return "".join(out)


def page_nav_html(order, current, page_titles):
    if current not in order: return ""
    i = order.index(current)
    prev = (f'<a class="prev" href="{order[i-1]}">&larr; {html.escape(page_titles[order[i-1]])}</a>'
            if i > 0 else "<span></span>")
    nxt = (f'<a class="next" href="{order[i+1]}">{html.escape(page_titles[order[i+1]])} &rarr;</a>'
           if i + 1 < len(order) else "<span></span>")
    return f'<nav class="page-nav">{prev}{nxt}</nav>'


_re_ext_resource = re.compile(
    r"""<(script|link|img|iframe|source|video|audio)\b[^>]*?\b(src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.I)
_re_css_url = re.compile(r"""(@import\s+(?:url\()?|url\()\s*["']?\s*((?:https?:)?//[^"')\s]+)""", re.I)
CDN_HOSTS = ("cdnjs.", "jsdelivr", "unpkg.com", "googleapis.com", "gstatic.com", "mathjax.org", "cloudflare.com")

def remote_resources(text):
    "Every script, style sheet, image or font the page would fetch from another host (none may remain)."
    found = [m.group(3) for m in _re_ext_resource.finditer(text)
             if not (m.group(1).lower() == "link" and re.search(r'rel=["\']?(canonical|alternate)', m.group(0)))]
    found += [m.group(2) for m in _re_css_url.finditer(text)]
    # CDN addresses in inline scripts would be fetched at run time (as mermaid and the widget manager do).
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S | re.I):
        found += [u for u in re.findall(r"""["'`]((?:https?:)?//[^"'`\s]+)""", script) if any(h in u for h in CDN_HOSTS)]
    return found


def project_css(nbs):
    "The project's `styles.css` (what Quarto adds to every page), so both sites share its rules (math in tables, wide tables)."
    f = Path(nbs) / "styles.css"
    return "\n/* nbs/styles.css */\n" + f.read_text(encoding="utf-8") if f.exists() else ""


def copy_mathjax(out):
    "Copy MathJax 2.7.9 from the jupyter-server-mathjax wheel into `out/mathjax` (skipped when already there)."
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("jupyter-server-mathjax is not installed: run `pip install -e \".[dev]\"` "
                         "(or `pip install --no-deps jupyter-server-mathjax`)")
    src = Path(list(spec.submodule_search_locations)[0]) / "static"
    if not (src / "MathJax.js").exists(): raise BuildError(f"no MathJax.js in {src}")
    dst = out / "mathjax"
    stamp = dst / ".source"
    if stamp.exists() and stamp.read_text() == str(src) and (dst / "MathJax.js").exists(): return dst
    if dst.exists(): shutil.rmtree(dst)
    shutil.copytree(src, dst)
    stamp.write_text(str(src))
    return dst


# ---------------------------------------------------------------- cache
def _cache_salt(cfg):
    "What every page depends on besides its notebook: this script, settings.ini, nbdev, the package's source."
    import hashlib, nbdev
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes()); h.update(nbdev.__version__.encode())
    if cfg.config_file.exists(): h.update(cfg.config_file.read_bytes())
    lib = Path(cfg.lib_path)
    for f in sorted(lib.rglob("*.py")) if lib.exists() else []:
        h.update(str(f.relative_to(lib)).encode()); h.update(f.read_bytes())
    return h.hexdigest()


def _cache_key(salt, nb_path):
    import hashlib
    return hashlib.sha256(salt.encode() + Path(nb_path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- build
def _describe_proc_error(e, nb_path):
    "Say which cell made nbdev's processing fail, why, and (for the usual cause) how to fix it."
    from types import SimpleNamespace
    m = re.search(r"in cell (\d+) :\n(.*)", str(e), re.S)
    if not m: return "nbdev's docs processing failed (nbdev_docs would fail too): " + _describe(e)
    src = m.group(2).strip()
    cells = json.loads(Path(nb_path).read_text(encoding="utf-8")).get("cells", [])
    idx = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"
                and cell_options("".join(c.get("source", [])))[1].strip() == src), None)
    cause = e.__cause__ or e.__context__
    why = f"{type(cause).__name__}: {str(cause).strip().splitlines()[0][:200] if str(cause).strip() else '(no message)'}" if cause else ""
    lines = src.splitlines()
    where = f"cell {idx} (counting from 0)" if idx is not None else "a cell"
    msg = (f"nbdev_docs would fail: nbdev executes {where} while building the docs and it raised {why}\n"
           f"      cell: {lines[0][:100]}" + (f"  ... ({len(lines)} lines)" if len(lines) > 1 else ""))
    if _mixed_import_cell(SimpleNamespace(cell_type="code", source=src)):
        msg += ("\n      fix: this cell mixes an import with other code, so nbdev runs it without the cells before it "
                "(nbdev's FAQ): move the import into its own cell or into the notebook's import cell")
    return msg


def _describe(e):
    cause = e.__cause__ or e.__context__
    msg = f"{type(e).__name__}: {e}".strip()
    if cause: msg += f"\n    caused by {type(cause).__name__}: {str(cause).strip()[:600]}"
    return msg


def build(nbs=None, out=None, strict=False, quiet=False, force=False):
    """Build the site; return the list of problems (empty when all is well). Notebooks processed by nbdev are
    cached in `<out>/.cache/` (keyed by the notebook, the package's source, settings.ini and this script);
    `force` ignores the cache."""
    t0 = time.time()
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    nbs = Path(nbs or ROOT / "nbs").resolve()
    out = Path(out or ROOT / "_site").resolve()
    errors, warns = [], []

    from nbdev.config import get_config
    cfg = get_config(path=ROOT)
    site_url = (cfg.get("doc_host", "") + cfg.get("doc_baseurl", "")).rstrip("/") + "/"
    project = cfg.get("title") or cfg.get("lib_name") or ROOT.name

    notebooks = find_notebooks(nbs)
    if not notebooks: raise BuildError(f"no notebooks found in {nbs}")
    entries = read_sidebar(nbs / "sidebar.yml")
    listed = [e[1] for e in entries if e[0] == "page"]
    for nb in notebooks:
        if nb not in listed:
            errors.append(f"{nb} is not listed in {nbs/'sidebar.yml'}: add it under its section")
    dups = sorted({p for p in listed if listed.count(p) > 1})
    if dups: errors.append(f"listed more than once in sidebar.yml: {', '.join(dups)}")
    unwritten = [p for p in listed if p.endswith(".ipynb") and p not in notebooks]
    if unwritten:
        (errors if strict else warns).append(f"sidebar.yml lists {len(unwritten)} notebook(s) not in {nbs} "
                                             f"(left out of the site): {', '.join(unwritten)}")
    if "index.ipynb" not in notebooks: errors.append(f"no index.ipynb in {nbs}: the home page comes from it")

    # Pages in sidebar order, then any unlisted notebooks (built, but reported above).
    order_nbs = [p for p in listed if p in notebooks] + [p for p in notebooks if p not in listed]
    nb2page, titles = {}, {}
    for nb in order_nbs:
        nb2page[nb] = quarto_page_name(nb)
        titles[nb] = first_title(nbs / nb)[0] or Path(nb).stem
    pages = list(nb2page.values())
    clash = sorted({p for p in pages if pages.count(p) > 1})
    if clash: raise BuildError(f"two notebooks would write the same page: {', '.join(clash)}")

    marker = out / ".built-by-tools-docs"
    if out.exists() and any(out.iterdir()) and not (marker.exists() or (out / "mathjax" / ".source").exists()):
        raise BuildError(f"{out} is not empty and was not written by this script: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text("Written by tools/docs.py; the whole folder is rebuilt by it.\n")
    cache = out / ".cache"; cache.mkdir(exist_ok=True)
    salt = _cache_salt(cfg)
    copy_mathjax(out)
    site_css = SITE_CSS + project_css(nbs)
    log(f"Building {len(order_nbs)} pages from {nbs} into {out}")

    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from bs4 import BeautifulSoup
    exporter = HTMLExporter(template_name="lab", template_file="site.html.j2",
                            extra_loaders=[DictLoader({"site.html.j2": TEMPLATE})],
                            mathjax_url=f"mathjax/MathJax.js?config={MATHJAX_CONFIG}", require_js_url="",
                            exclude_input_prompt=True, exclude_output_prompt=True)

    # Sidebar entries point at pages; titles from the notebooks unless sidebar.yml gives a text.
    side = [e if e[0] == "section" else ("page", nb2page[e[1]], e[2]) for e in entries
            if e[0] == "section" or e[1] in nb2page]
    side = [e for i, e in enumerate(side)     # a section with no page yet is left out
            if e[0] == "page" or (i + 1 < len(side) and side[i + 1][0] == "page")]
    page_titles = {nb2page[nb]: titles[nb] for nb in order_nbs}
    order = [nb2page[p] for p in listed if p in nb2page]

    cwd = os.getcwd()
    os.chdir(ROOT)   # nbdev reads settings.ini from here, as `nbdev_docs` would
    try:
        for nb in order_nbs:
            t1 = time.time()
            page = nb2page[nb]
            try:
                import nbformat
                key = _cache_key(salt, nbs / nb)
                cached = cache / (Path(nb).stem + ".json")
                hit = False
                if not force and cached.exists():
                    c = json.loads(cached.read_text(encoding="utf-8"))
                    if c.get("key") == key:
                        node, fm, msgs, hit = nbformat.from_dict(c["nb"]), c["frontmatter"], c["warnings"], True
                if not hit:
                    try: pnb, fm, msgs = process_notebook(nbs / nb)
                    except Exception as e:
                        # `nbdev_docs` would stop here too: report it, then build the page without the failing cells.
                        errors.append(f"{nb}: {_describe_proc_error(e, nbs / nb)}")
                        pnb, fm, msgs, key = *process_notebook(nbs / nb, safe=True), None
                    fm.setdefault("title", titles[nb])
                    if nb == "index.ipynb" and not fm.get("title"): fm["title"] = project
                    node = to_nbformat(pnb, fm)
                    if key: cached.write_text(json.dumps({"key": key, "nb": node, "frontmatter": fm, "warnings": msgs}),
                                              encoding="utf-8")
                    elif cached.exists(): cached.unlink()
                warns += [f"{nb}: {m}" for m in msgs]
                if fm.get("output-file") and fm["output-file"] != page:
                    warns.append(f"{nb}: nbdev names its page {fm['output-file']}, this site uses {page}")
                body, _ = exporter.from_notebook_node(node, resources={
                    "metadata": {"name": f"{project} - {fm['title']}"},
                    "site": {"title": fm["title"], "description": fm.get("description", ""),
                             "css": site_css, "mathjax_fonts": MATHJAX_FONTS}})
                body = body.replace(f"<title>{html.escape(fm['title'])}</title>",
                                    f"<title>{html.escape(project)} - {html.escape(fm['title'])}</title>", 1)
                soup = BeautifulSoup(body, "html.parser")
                fix_headings(soup)
                rewrite_links(soup, site_url, nb2page)
                toc = [(h["id"], h.get_text(" ", strip=True).replace("\u00b6", "").strip())
                       for h in soup.find_all("h2") if h.get("id")]
                text = str(soup)
                text = text.replace("<!--SITE-SIDEBAR-->", sidebar_html(side, page, page_titles, toc, project), 1)
                text = text.replace("<!--SITE-PAGE-NAV-->", page_nav_html(order, page, page_titles), 1)
                remote = remote_resources(text)
                if remote: errors.append(f"{page} would load from the network: {', '.join(sorted(set(remote))[:5])}")
                (out / page).write_text(text, encoding="utf-8")
                imgs = text.count('src="data:image/')
                log(f"  {nb:<32} -> {page:<28} {time.time()-t1:5.1f}s{' (cached)' if hit else ''}"
                    f"{f'  ({imgs} embedded images)' if imgs else ''}")
            except Exception as e:
                errors.append(f"{nb}: no page built: {_describe(e)}")
                log(f"  {nb:<32} FAILED")
    finally:
        os.chdir(cwd)

    # Pages left over from notebooks that were renamed or removed would keep stale links alive.
    for f in cache.glob("*.json"):
        if f.stem not in {Path(nb).stem for nb in order_nbs}: f.unlink()
    for f in out.glob("*.html"):
        if f.name not in pages:
            f.unlink(); warns.append(f"removed stale page {f.name} (no notebook builds it now)")
    for w in warns: log(f"warning: {w}")
    for e in errors: log(f"ERROR: {e}")
    log(f"{len(order_nbs)} pages, {len(errors)} errors, {len(warns)} warnings, {time.time()-t0:.1f}s -> {out}/index.html")
    return errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "_site"), help="output directory (default: _site/)")
    ap.add_argument("--nbs", default=str(ROOT / "nbs"), help="notebooks directory with sidebar.yml (default: nbs/)")
    ap.add_argument("--strict", action="store_true", help="sidebar entries without a notebook are errors")
    ap.add_argument("--force", action="store_true", help="process every notebook again, ignoring the cache")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    a = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*pkg_resources.*")
    try: errors = build(a.nbs, a.out, strict=a.strict, quiet=a.quiet, force=a.force)
    except BuildError as e:
        print(f"ERROR: {e}", file=sys.stderr); return 1
    if errors and a.quiet:
        for e in errors: print(f"ERROR: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    rc = main()
    # nbdev's show_doc step leaves an IPython shell per notebook; their exit hooks only save command history
    # (to ~/.ipython) and take seconds, so leave without running them.
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(rc)
