"""The `newllm-experiment` command as a user runs it: a subprocess, real offline data, the smoke preset."""
import json, os, subprocess, sys, time
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


def test_settings_are_checked_before_any_data_is_loaded(tmp_path):
    cases = [(['--epochs', '0'], 'epochs must be an integer ≥ 1'),
             (['--segment-length', '0'], "option segment_length of 'infini' must be an integer ≥ 1"),
             (['--num-memories', '0', '--models', 'multi_memory'], "option num_memories of 'multi_memory' must be an integer ≥ 1"),
             (['--models', 'infini:num_layers=0'], 'num_layers'),
             (['--models', 'infini:memory_heads=2.5'], 'memory_heads'),
             (['--models', 'pythia:intermediate_size=-4'], 'intermediate_size'),
             (['--models', 'pythia:num_heads=0'], 'num_heads'),
             (['--batch-size', '0'], 'batch_size must be an integer ≥ 1'),
             (['--device', 'cuda'], 'has no CUDA GPU')]
    # one interpreter runs the command's main() for every case (a subprocess each would spend minutes importing torch)
    script = """
import contextlib, io, json, sys
import newllm.experiments.runner
from newllm.experiments.cli import main
newllm.experiments.runner.load_samples = lambda *a, **k: sys.exit('data was loaded')
out = []
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try: main(args); code = 0
        except SystemExit as e: code, msg = 1, str(e.code)
    out.append(msg if code else 'no error')
print(json.dumps(out))
"""
    import torch
    cases = [c for c in cases if not (c[0] == ['--device', 'cuda'] and torch.cuda.is_available())]
    argv = [['--preset', 'smoke', '--out', str(tmp_path/'x'), *(['--models', 'infini'] if '--models' not in a else []), *a] for a, _ in cases]
    done = subprocess.run([sys.executable, '-c', script, json.dumps(argv)], capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for (args, message), got in zip(cases, json.loads(done.stdout.strip().splitlines()[-1])):
        assert message in got and 'data was loaded' not in got, (args, got)
    assert not (tmp_path/'x').exists()                                  # refused before a run folder was made


def test_a_model_option_overrides_the_preset(tmp_path):
    out = run('--models', 'infini:segment_length=8', 'pythia:hidden_size=32,num_heads=2', '--preset', 'smoke', '--epochs', '1',
              '--out', str(tmp_path), '--no-progress')
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path/'results.json').read_text())
    assert [m['label'] for m in res['models']] == ['infini+segment_length=8', 'pythia+hidden_size=32+num_heads=2']
    cfg = json.loads((tmp_path/'pythia+hidden_size=32+num_heads=2'/'model'/'config.json').read_text())
    assert cfg['options']['hidden_size'] == 32 and cfg['options']['num_heads'] == 2


def test_output_folder_is_checked_and_never_overwritten(tmp_path):
    ro = tmp_path/'ro'; ro.mkdir(); ro.chmod(0o500)
    if os.geteuid() != 0:
        bad = run('--models', 'pythia', '--preset', 'smoke', '--out', str(ro/'run'))
        assert bad.returncode != 0 and 'cannot write to the run folder' in bad.stderr
    bad = run('--models', 'pythia', '--preset', 'smoke', '--out', '/proc/newllm-run')
    assert bad.returncode != 0 and 'cannot write' in bad.stderr
    first = run('--models', 'pythia', '--preset', 'smoke', '--epochs', '1', '--out', str(tmp_path/'run'), '--no-progress')
    second = run('--models', 'pythia', '--preset', 'smoke', '--epochs', '1', '--out', str(tmp_path/'run'), '--no-progress')
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert 'holds an earlier run; this run writes to' in second.stdout and (tmp_path/'run-2'/'results.json').exists()


def test_passkey_experiment_cli(tmp_path):
    out = run('--experiment', 'passkey', '--preset', 'smoke', '--models', 'pythia', 'infini', '--out', str(tmp_path), '--no-progress')
    assert out.returncode == 0, out.stderr
    for title in ('Passkey accuracy (exact match) by total length', 'Memory ablation', 'State bytes per sequence', 'Memory gates'):
        assert f'### {title}' in out.stdout
    res = json.loads((tmp_path/'results.json').read_text())
    assert res['experiment'] == 'passkey' and [m['label'] for m in res['models']] == ['pythia', 'infini']
    assert {p.name for p in tmp_path.iterdir()} >= {'results.json', 'tables.md', 'heatmaps.png', 'accuracy.png', 'memory.png', 'gates.png'}
    bad = run('--experiment', 'passkey', '--preset', 'huge', '--out', str(tmp_path/'x'))
    assert bad.returncode != 0 and 'choose one of: smoke, cpu, colab_l4' in bad.stderr
    bad = run('--experiment', 'passkey', '--preset', 'smoke', '--seq-length', '20', '--out', str(tmp_path/'x'))
    assert bad.returncode != 0 and 'train_length 20 is too short' in bad.stderr
