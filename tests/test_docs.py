"""The docs: the offline site (`newllm-docs html`) builds a page per notebook with working links; README.md,
nbs/sidebar.yml and nbs/nbdev.yml are current; the Quarto config and the GitHub workflows are well-formed; every
exported function and class is documented (docstring, docments-style parameters, and its documentation on the rendered
page of its notebook: an explicit `show_doc` or nbdev's automatic one)."""
import ast, inspect, importlib, json, os, re, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path

import pytest, yaml

from newllm.tools.docs import doc_notebooks, page_name, sidebar_yaml, nbdev_yaml, notebook_markdown, stale_files, site_url

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'


# ---------------------------------------------------------------- the offline site

class _Links(HTMLParser):
    "Every href, every id and the text of a page."
    def __init__(self):
        super().__init__(); self.hrefs, self.ids, self.texts = [], set(), []
    def handle_data(self, data): self.texts.append(data)
    @property
    def text(self): return ''.join(''.join(self.texts).replace('*', '').split())   # as `_plain`: no whitespace, no asterisks
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        if tag == 'a' and a.get('href') is not None: self.hrefs.append(a['href'])


def _parse(path):
    p = _Links(); p.feed(path.read_text(encoding='utf-8')); return p


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site, built as a user builds it (`newllm-docs html`), without executing the front page (nbdev_test runs it)."
    dest = tmp_path_factory.mktemp('docs')/'_docs'
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1')
    r = subprocess.run([sys.executable, '-c', 'from newllm.tools.docs import main; main()', 'html', '--dest', str(dest), '--execute'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f'newllm-docs html failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}'
    return dest, {p.name: _parse(p) for p in dest.glob('*.html')}, json.loads((dest/'.newllm-docs').read_text())


def test_every_notebook_has_a_page(site):
    dest, pages, report = site
    want = {page_name(nb) for nb in doc_notebooks(ROOT)}
    assert len(want) == len(doc_notebooks(ROOT)), 'two notebooks would share a page'
    assert set(pages) == want, (set(pages) ^ want)
    assert all((dest/p).stat().st_size > 2000 for p in want)


def test_index_links_to_every_page(site):
    _, pages, _ = site
    linked = {h.split('#')[0] for h in pages['index.html'].hrefs}
    assert set(pages) - {'index.html'} <= linked, set(pages) - linked


def test_every_page_links_to_every_page(site):
    "The navigation is on every page, so any page reaches any other in one click."
    _, pages, _ = site
    for name, p in pages.items():
        assert set(pages) <= {h.split('#')[0] for h in p.hrefs} | {name}, name


def test_local_links_resolve(site):
    "Every link inside the site points at a page that exists, and at an anchor on it that exists."
    dest, pages, _ = site
    broken = []
    for name, p in pages.items():
        for href in p.hrefs:
            if re.match(r'^[a-z][a-z0-9+.-]*:', href) or href.startswith('//'): continue   # http(s):, mailto:, file:
            target, _, anchor = href.partition('#')
            target = target or name
            if target not in pages: broken.append(f'{name}: {href} (no such page)')
            elif anchor and anchor not in pages[target].ids: broken.append(f'{name}: {href} (no such anchor)')
    assert not broken, '\n'.join(broken)


def test_no_link_leaves_for_the_published_site(site):
    "Links to pages of this site that exist are rewritten to stay offline."
    _, pages, _ = site
    site = site_url(ROOT)
    leaks = [(n, h) for n, p in pages.items() for h in p.hrefs
             if h.startswith(site) and h[len(site):].split('#')[0] in pages]
    assert not leaks, leaks


def test_pages_render_show_doc_and_math(site):
    dest, _, _ = site
    model = (dest/'model.html').read_text()
    assert 'create_model' in model and 'class="nl-source"' in model and '{target=' not in model
    assert 'MathJax' in (dest/'memory.html').read_text()
    index = (dest/'index.html').read_text()
    assert 'class="mermaid"' in index and '```{mermaid}' not in index


def test_experiment_pages_show_saved_results(site):
    "Each experiment page with a saved run shows its tables and at least one plot (an image that is in the site), "
    "says which preset and hardware produced it, and has an Open-in-Colab badge; the front page shows the headline plot."
    dest, pages, _ = site
    for nb in doc_notebooks(ROOT):
        if not re.match(r'1\d_', nb.name) or not list((NBS/'results').glob(f'{nb.stem}.*.json')): continue
        html = (dest/page_name(nb)).read_text()
        imgs = re.findall(r'<img[^>]+src="(results/[^"]+\.png)"', html)
        assert '<table' in html and imgs, f'{nb.name}: no tables or plots of its saved runs'
        assert all((dest/i).exists() for i in imgs), imgs
        assert 'hardware:' in html and 'colab-badge.svg' in html and 'colab.research.google.com/github/' in html, nb.name
    index = (dest/'index.html').read_text()
    assert 'src="results/headline.png"' in index and (dest/'results'/'headline.png').exists()


def test_every_cell_the_docs_need_runs(site):
    _, _, report = site
    assert report['errors'] == [], '\n'.join(report['errors'])


# ---------------------------------------------------------------- generated files, Quarto config, workflows

def test_readme_sidebar_and_nbdev_yml_are_current():
    assert stale_files(ROOT) == [], 'run `newllm-docs readme` and `newllm-docs sidebar`'


def test_readme_is_index_without_outputs():
    md = notebook_markdown(NBS/'index.ipynb').replace('](results/', '](nbs/results/')   # images linked from the root
    assert (ROOT/'README.md').read_text() == md
    assert '```python\n' in md and '(nbs/results/headline.png)' in md and 'colab-badge.svg' in md
    assert '```mermaid' in md and '## Quick start' in md and '## Results' in md
    top = md.split('## On Colab')[0]
    assert len(re.findall(r'```bash\n', top)) == 2


def test_sidebar_lists_every_notebook_in_order():
    side = yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']['contents']
    assert side[0] == 'index.ipynb'
    sections = {s['section']: s['contents'] for s in side[1:]}
    assert list(sections)[-1] == 'Experiments' and len(sections) > 2            # a section per library part, then the experiments
    library = [n for s, names in sections.items() if s != 'Experiments' for n in names]
    assert all(int(re.match(r'\d+', n).group()) < 10 for n in library)
    assert all(int(re.match(r'\d+', n).group()) >= 10 for n in sections['Experiments'])
    listed = [side[0]] + library + sections['Experiments']
    assert listed == [p.name for p in doc_notebooks(ROOT)]


def test_quarto_config():
    q = yaml.safe_load((ROOT/'_quarto.yml').read_text())
    assert (NBS/'_quarto.yml').resolve() == (ROOT/'_quarto.yml').resolve(), 'nbs/_quarto.yml must link to ../_quarto.yml'
    assert q['project']['type'] == 'website'
    assert set(q['metadata-files']) == {'nbdev.yml', 'sidebar.yml'}
    for f in q['metadata-files']: assert (NBS/f).exists(), f
    css = q['format']['html'].get('css')
    if css: assert (NBS/css).exists(), f'_quarto.yml names {css}, which is not in nbs/'


def test_workflows():
    wf = {p.name: yaml.safe_load(p.read_text()) for p in (ROOT/'.github'/'workflows').glob('*.y*ml')}
    assert {'test.yaml', 'deploy.yaml'} <= set(wf), sorted(wf)
    steps = lambda w: [s for job in w['jobs'].values() for s in job['steps']]
    assert any('.ci/run' in s.get('run', '') for s in steps(wf['test.yaml']))
    deploy = steps(wf['deploy.yaml'])
    assert any('nbdev_docs' in s.get('run', '') for s in deploy)
    assert any('quarto' in s.get('uses', '') for s in deploy)
    assert any('_docs' in str(s.get('with', {})) for s in deploy)


# ---------------------------------------------------------------- every exported symbol documented

def _module_notebooks():
    "module name (e.g. 'tools.docs') -> the notebooks its cells come from (the `# %% ../nbs/NAME.ipynb` markers nbdev_export writes)."
    res = {}
    for py in sorted((ROOT/'newllm').rglob('*.py')):
        rel = py.relative_to(ROOT/'newllm')
        if any(part.startswith('_') for part in rel.parts): continue
        res['.'.join(rel.with_suffix('').parts)] = sorted(set(re.findall(r'^# %% (?:\.\./)+nbs/(\S+\.ipynb)', py.read_text(), re.M)))
    return res


def _exported():
    "(module, name, obj, ast node) for every function and class in a module's `__all__` that the module defines."
    out = []
    for mod_name in _module_notebooks():
        src = (ROOT/'newllm'/Path(*mod_name.split('.'))).with_suffix('.py').read_text()
        tree = ast.parse(src)
        names = set()
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in node.targets):
                names = set(ast.literal_eval(node.value))
        mod = importlib.import_module(f'newllm.{mod_name}')
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
                out.append((mod_name, node.name, getattr(mod, node.name), node))
    return out


def _fail_if(missing, what):
    assert not missing, f'{len(missing)} exported symbol(s) {what} (fix them in their notebooks): ' + ', '.join(missing)


def test_exported_symbols_have_docstrings():
    missing = [f'{m}.{n}' for m, n, _, node in _exported() if not ast.get_docstring(node)]
    _fail_if(missing, 'lack a docstring')


def _plain(md: str) -> str:
    "Markdown's text as a page shows it (no backticks or link targets), without whitespace and asterisks (emphasis or not)."
    md = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', md)
    return ''.join(re.sub(r'[`*]', '', md).split())


def test_exported_symbols_are_documented_on_their_pages(site):
    """Every exported function and class has its documentation on the rendered page of its notebook: a heading with its
    name as anchor, and its docstring. nbdev's automatic `show_doc` provides it; an explicit `show_doc` cell is needed
    only where it adds something (a method, or a different place on the page)."""
    _, pages, _ = site
    nbs = _module_notebooks()
    missing = []
    for m, n, _, node in _exported():
        doc = _plain((ast.get_docstring(node) or '').split('\n\n')[0])[:50]
        shown = [pages.get(page_name(nb)) for nb in nbs[m]]
        if not any(p is not None and (n in p.ids or n.lower() in p.ids) and doc in p.text for p in shown):
            missing.append(f'{m}.{n} ({", ".join(page_name(nb) for nb in nbs[m])})')
    _fail_if(missing, 'are not documented on their pages')


def _undocumented_params(obj):
    from fastcore.docments import docments
    if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, '_fields'): return []   # NamedTuple: fields
    if isinstance(obj, type) and obj.__init__ is object.__init__: return []   # no constructor of its own: no parameters
    if isinstance(obj, type) and '__init__' not in vars(obj): return []   # an inherited constructor: checked where it is defined
    try: d = docments(obj, full=True)
    except Exception as e: return [f'<docments failed: {type(e).__name__}>']
    return [k for k, v in d.items() if k not in ('self', 'cls', 'return') and not v['docment']]


def test_exported_parameters_are_documented():
    "Each parameter has a docments comment (`x: int, # what x is`), which nbdev renders beside it."
    missing = []
    for m, n, obj, _ in _exported():
        params = _undocumented_params(obj)
        if params: missing.append(f"{m}.{n}({', '.join(params)})")
    _fail_if(missing, 'have parameters without a docments comment')


def test_docs_build_cells_nbdev_would_run():
    """`nbdev_docs` (nbdev_proc_nbs) runs every cell that contains an import, not only exports and show_docs; cells that
    mix imports with tests make the Quarto build slow or break it. Their imports belong in the notebook's import cell."""
    mixed = []
    for nb in doc_notebooks(ROOT):
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or re.search(r'^\s*#\|\s*(export|exports|exporti|eval:\s*false)', src, re.M): continue
            try: body = ast.parse(re.sub(r'^\s*[%!].*$', '', src, flags=re.M)).body
            except SyntaxError: continue
            imports = any(isinstance(n, (ast.Import, ast.ImportFrom)) for s in body for n in ast.walk(s))
            if imports and not all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body):
                mixed.append(f'{nb.name} cell {i}')
    assert not mixed, f'{len(mixed)} cell(s) mix imports with other code, so nbdev_docs runs them: ' + ', '.join(mixed)
