"""The Colab flow, offline: a fresh virtual environment where someone already ran `pip install nbdev` (nbdev 3,
whose `nbdev_export` refuses settings.ini), `NEWLLM_REPO` pointing at a local clone of this repository's
committed state; the experiment notebooks' first cell (`newllm.colab.colab_setup_code`) then clones and installs
newllm with the pinned nbdev 2 toolchain, exports it, and imports it from the clone; afterwards `nbdev_export`
works in the clone and the smoke preset trains.

The environment sees the packages of the one running the tests (torch & co., through a `.pth` line placed after
its own site-packages), so only what differs — nbdev 3, then the pinned toolchain and the notebook extra — comes
from the package registry. About 1–3 minutes; `pytest -m "not colab_flow"` leaves it out."""
import json, os, subprocess, sys, sysconfig, time, venv
from pathlib import Path

import pytest

from newllm.colab import colab_setup_code, experiment_notebooks

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.colab_flow


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_every_experiment_notebook_starts_with_the_setup_cell():
    code = colab_setup_code()
    for nb in experiment_notebooks(ROOT):
        first = next(c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
        assert ''.join(first['source']) == code, f'{nb.name}: run `newllm-docs readme` (newllm.colab.sync_colab_cells)'


DRIVER = r'''
import json, os, sys, time
t = time.time()
exec(compile(open(sys.argv[1]).read().replace('#| eval: false', ''), 'setup-cell', 'exec'))   # the notebook cell
setup_s = time.time() - t
import newllm, nbdev
from newllm.experiments.runner import run_experiment
r = run_experiment(preset='smoke', experiment='full_infini', models=['pythia', 'infini'], progress=False)
print('RESULT', json.dumps(dict(file=newllm.__file__, nbdev=nbdev.__version__, setup_s=round(setup_s, 1),
                                ppl={m.label: m.best_val_ppl for m in r.models})))
'''


def test_colab_cell_in_a_fresh_env_with_nbdev3(tmp_path):
    t0 = time.time()
    origin = tmp_path/'origin'                       # what NEWLLM_REPO points at: the committed state
    _run(['git', 'clone', '-q', str(ROOT), str(origin)])
    env_dir = tmp_path/'venv'
    venv.create(env_dir, with_pip=True)
    py = str(env_dir/'bin'/'python')
    purelib = _run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).stdout.strip()
    Path(purelib, 'zz_outer_env.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env.update(HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', PIP_DISABLE_PIP_VERSION_CHECK='1', NEWLLM_REPO=str(origin),
               PATH=f"{env_dir/'bin'}{os.pathsep}{env.get('PATH', '')}")
    # someone ran `pip install nbdev`: nbdev 3, which refuses this project's settings.ini
    _run([py, '-m', 'pip', 'install', '-q', 'nbdev>=3'], env=env)
    v3 = _run([py, '-c', 'import nbdev; print(nbdev.__version__)'], env=env).stdout.strip()
    assert int(v3.split('.')[0]) >= 3, v3
    content = tmp_path/'content'; content.mkdir()          # Colab's working folder
    cell = tmp_path/'cell.py'; cell.write_text(colab_setup_code())
    _run([py, '-c', 'import importlib.util, sys; sys.exit(importlib.util.find_spec("newllm") is not None)'], env=env, cwd=content)
    r = _run([py, '-c', DRIVER, str(cell)], env=env, cwd=content, timeout=900)
    res = json.loads(r.stdout.split('RESULT ', 1)[1].splitlines()[0])
    clone = content/'newllm'
    assert Path(res['file']).resolve() == (clone/'newllm'/'__init__.py').resolve(), res   # the clone's code
    assert res['nbdev'] == '2.4.14', res                                                   # the pinned toolchain
    assert set(res['ppl']) == {'pythia', 'infini'} and all(0 < v < 1e6 for v in res['ppl'].values()), res
    # afterwards nbdev_export works in the clone and reproduces the committed library
    _run([str(env_dir/'bin'/'nbdev_export')], env=env, cwd=clone)
    assert _run(['git', 'status', '--porcelain', '--', 'newllm'], cwd=clone).stdout == ''
    # the cell is idempotent: run again in a kernel where newllm is importable, it only imports
    r2 = _run([py, '-c', f"exec(open({str(cell)!r}).read().replace('#| eval: false', ''))"], env=env, cwd=content)
    assert 'from' in r2.stdout and 'pip' not in r2.stderr
    print(f"colab flow: set-up cell {res['setup_s']} s, whole test {time.time() - t0:.0f} s")
