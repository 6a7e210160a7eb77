"""The `newllm-experiment` command as a user runs it: a subprocess, real offline data, the smoke preset."""
import json, os, subprocess, sys
from pathlib import Path

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'MPLBACKEND': 'Agg'}


def run(*args):
    return subprocess.run(['newllm-experiment', *args], capture_output=True, text=True, env=ENV, timeout=600)


def test_experiment_cli_prints_tables_and_saves_results(tmp_path):
    out = run('--models', 'pythia', 'infini', '--preset', 'smoke', '--out', str(tmp_path), '--no-progress')
    assert out.returncode == 0, out.stderr
    for title in ('Settings', 'Perplexity', 'Training speed', 'Position-wise PPL', 'Reversal curse'):
        assert f'### {title}' in out.stdout
    assert {p.name for p in tmp_path.iterdir()} >= {'results.json', 'tables.md', 'learning_curves.png', 'position_ppl.png'}
    res = json.loads((tmp_path/'results.json').read_text())
    assert [m['label'] for m in res['models']] == ['pythia', 'infini']
    assert res['data']['source'] == 'offline'


def test_experiment_cli_options_reach_the_models(tmp_path):
    out = run('--models', 'multi_memory', '--preset', 'smoke', '--epochs', '1', '--no-delta-rule', '--num-memories', '2',
              '--samples', '30', '--out', str(tmp_path), '--no-progress')
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path/'results.json').read_text())
    assert res['config']['model_options']['use_delta_rule'] is False and res['config']['n_samples'] == 30
    assert len(res['models'][0]['history']['records']) == 1
    assert res['models'][0]['memory_bytes'] == 2 * 4 * (16 * 16 + 16) * 4   # 2 memories × 4 heads × (16×16 + 16) float32


def test_experiment_cli_clear_errors(tmp_path):
    bad = run('--models', 'pythia', '--preset', 'huge', '--out', str(tmp_path))
    assert bad.returncode != 0 and 'choose one of: smoke, cpu, colab_l4' in bad.stderr
    bad = run('--models', 'gpt5', '--preset', 'smoke', '--out', str(tmp_path))
    assert bad.returncode != 0 and 'valid names' in bad.stderr
    bad = run('--models', 'pythia', '--preset', 'smoke', '--data', 'pile', '--out', str(tmp_path))
    assert bad.returncode != 0 and "data='offline'" in bad.stderr
