#!/usr/bin/env python
"""Make README.md from nbs/index.ipynb without Quarto.

    python tools/readme.py           # write README.md
    python tools/readme.py --check   # exit 1 if README.md differs from what index.ipynb gives

It applies nbdev's own notebook processors (so `#| hide` cells and exported-code markers behave as on the
docs site), then nbconvert's Markdown exporter. It uses the outputs saved in the notebook: run the notebook
(e.g. `jupyter nbconvert --execute --inplace nbs/index.ipynb`) before regenerating if its code changed.
"""
import argparse, difflib, re, sys, warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parent.parent


def render(nb_path=ROOT / "nbs" / "index.ipynb"):
    "README text from the notebook at `nb_path`."
    import nbformat
    from nbconvert import MarkdownExporter
    from execnb.nbio import read_nb, nb2str
    from nbdev.processors import FilterDefaults

    nb = read_nb(nb_path)
    FilterDefaults()(nb)  # the processors of nbdev's docs build; the title cell becomes front matter
    fm = getattr(nb, "frontmatter_", {}) or {}
    title, desc = fm.get("title"), fm.get("description")
    nb.cells = [c for c in nb.cells if not (c.cell_type == "raw" and c.source.startswith("---"))]  # Quarto front matter
    nb_json = nbformat.reads(nb2str(nb), as_version=4)
    nb_json.metadata["language_info"] = {"name": "python"}  # code blocks marked as python
    body, _ = MarkdownExporter().from_notebook_node(nb_json)
    from nbdev.config import get_config
    cfg = get_config()
    site = cfg.doc_host.rstrip("/") + "/" + cfg.doc_baseurl.strip("/") + "/"
    body = re.sub(r"\]\((?!https?:|#|/)([^)\s]+\.html(?:#[^)\s]*)?)\)", lambda m: f"]({site}{m.group(1)})", body)  # page links work on GitHub too
    head = (f"# {title}\n\n" if title else "") + (f"> {desc}\n\n" if desc else "")
    text = head + body.strip() + "\n"
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines()))
    return text.strip() + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only compare with README.md; exit 1 on a difference")
    a = p.parse_args()
    new, readme = render(), ROOT / "README.md"
    if a.check:
        old = readme.read_text() if readme.exists() else ""
        if old != new:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "README.md", "from index.ipynb"))
            sys.exit("README.md is out of date: run `python tools/readme.py` and commit it.")
        print("README.md matches nbs/index.ipynb")
    else:
        readme.write_text(new)
        print(f"wrote {readme}")


if __name__ == "__main__":
    main()
