"""A quick test of the `newllm-bench` console script on tiny models (the smoke preset)."""
import json, os, shutil, subprocess, sys

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1'}


def bench(*args):
    script = shutil.which('newllm-bench')
    cmd = [script] if script else [sys.executable, '-c', 'from newllm.tools.bench import main; main()']
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=ENV, timeout=600)


def test_training_json_on_tiny_models():
    out = bench('training', '--preset', 'smoke', '--models', 'pythia', 'full_infini', '--steps', '2', '--warmup', '1', '--json')
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res['benchmark'] == 'training' and res['batch_size'] == 2 and res['seq_length'] == 64
    assert set(res['results']) == {'pythia', 'full_infini'}
    assert res['results']['pythia']['ratio_to_pythia'] == 1.0
    for r in res['results'].values():
        assert len(r['times_s']) == 2 and r['median_s'] > 0 and r['tokens_per_s'] > 0


def test_scaling_table_and_bad_arguments():
    out = bench('scaling', '--preset', 'smoke', '--models', 'full_infini', '--lengths', '64', '128', '--repeats', '1',
                '--train-max-length', '0', '--data', 'random')
    assert out.returncode == 0, out.stderr
    assert '| full_infini | 128 |' in out.stdout and 'forward (s)' in out.stdout
    bad = bench('training', '--option', 'hidden_size')
    assert bad.returncode == 2 and 'key=value' in bad.stderr
    assert bench('--help').returncode == 0
