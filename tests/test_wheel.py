"""The package as a user installs it: a wheel built from the checkout, installed in a fresh virtual environment
(without its dependencies: the environment sees the running one's torch & co. through a `.pth` line, so nothing is
downloaded), then `import newllm`, `newllm-experiment --help`, `create_model`; the wheel carries the LICENSE and
declares exactly the runtime requirements of settings.ini; `newllm-docs` says what to install when the dev tools
are missing. About 30 s."""
import configparser, os, shlex, shutil, subprocess, sys, sysconfig, venv, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_wheel_installs_and_runs(tmp_path):
    src = tmp_path/'src'
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns('.git', '_docs', '_proc', 'build', 'dist', '*.egg-info', 'runs',
                                                            '__pycache__', '.venv', '.pytest_cache', 'results'))
    import importlib.util
    isolation = [] if importlib.util.find_spec('setuptools') is None else ['--no-build-isolation']   # offline and fast when possible
    _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', *isolation, '-q', '-w', str(tmp_path/'dist'), str(src)])
    wheel, = (tmp_path/'dist').glob('newllm-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith('licenses/LICENSE') or n.endswith('.dist-info/LICENSE') for n in names), names
    assert 'newllm/colab.py' in names and 'newllm/_modidx.py' in names
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    declared = {l.split(':', 1)[1].strip() for l in meta.splitlines() if l.startswith('Requires-Dist:') and 'extra ==' not in l}
    assert declared == set(shlex.split(cfg['DEFAULT']['requirements'])), declared
    assert "Provides-Extra: notebook" in meta and "Provides-Extra: dev" in meta

    env_dir = tmp_path/'venv'
    venv.create(env_dir, with_pip=True)
    py, bin_ = str(env_dir/'bin'/'python'), env_dir/'bin'
    purelib = _run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).stdout.strip()
    Path(purelib, 'zz_outer_env.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')   # torch & co., after the venv's own
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env.update(HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    _run([py, '-m', 'pip', 'install', '-q', '--no-deps', str(wheel)], env=env)
    cwd = tmp_path/'elsewhere'; cwd.mkdir()
    r = _run([py, '-c', "import newllm, newllm.experiments.runner; from newllm.registry import create_model; "
                        "m = create_model('infini', hidden_size=64, num_heads=4, intermediate_size=128, num_layers=2); "
                        "print(newllm.__file__, m.num_parameters())"], env=env, cwd=cwd)
    assert r.stdout.startswith(purelib), r.stdout          # the wheel's code, not the checkout's
    assert int(r.stdout.split()[1]) > 0
    assert 'newllm-experiment' in _run([str(bin_/'newllm-experiment'), '--help'], env=env, cwd=cwd).stdout
    # the wheel knows the repository's address without a checkout (newllm._modidx)
    r = _run([py, '-c', 'from newllm.colab import repo_settings, colab_setup_code; print(repo_settings()["git_url"]); '
                        'assert repo_settings()["git_url"] in colab_setup_code()'], env=env, cwd=cwd)
    assert r.stdout.strip() == cfg['DEFAULT']['git_url']
    # without the dev tools, newllm-docs says what to install (instead of a traceback)
    r = subprocess.run([py, '-c', "import sys; sys.modules['nbformat'] = None; from newllm.tools.docs import main; main(['readme'])"],
                       capture_output=True, text=True, env=env, cwd=cwd)
    assert r.returncode == 1 and "pip install 'newllm[dev]'" in r.stderr and 'Traceback' not in r.stderr, r.stderr
