"""`newllm-experiment` killed with SIGKILL at random moments and resumed ends exactly where an uninterrupted run ends."""
import json, os, random, signal, subprocess, time
from pathlib import Path

import pytest

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'MPLBACKEND': 'Agg'}
ARGS = ['--models', 'pythia', 'infini', '--preset', 'smoke', '--epochs', '1', '--checkpoint-every', '1', '--no-progress']


def numbers(folder: Path) -> list:
    "Every measured number of a run: per model, each epoch's PPLs, the best epoch, position-wise PPL and reversal."
    res = json.loads((folder/'results.json').read_text())
    return [(m['label'], [(r['epoch'], r['train_ppl'], r['val_ppl']) for r in m['history']['records']], m['history']['best_epoch'],
             m['position_ppl'], m['reversal']) for m in res['models']]


def test_killed_at_random_moments_then_resumed_equals_uninterrupted(tmp_path):
    ref = subprocess.run(['newllm-experiment', *ARGS, '--out', str(tmp_path/'ref')], capture_output=True, text=True, env=ENV, timeout=900)
    assert ref.returncode == 0, ref.stderr[-3000:]
    rng, out, kills = random.Random(2026), tmp_path/'killed', []
    cmd = [*ARGS, '--out', str(out)]
    for attempt in range(15):
        p = subprocess.Popen(['newllm-experiment', *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, start_new_session=True)
        wait = rng.uniform(4, 12) + 2 * attempt                       # later attempts get longer, so the run always gets further
        try:
            _, err = p.communicate(timeout=wait)
            assert p.returncode == 0, err.decode()[-3000:]
            break
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL); p.communicate()
            kills.append(round(wait, 1))
        if (out/'run.json').exists(): cmd = ['--resume', str(out), '--no-progress']
    else: pytest.fail(f'the run did not finish after {len(kills)} kills')
    assert kills, 'the run finished before the first kill: nothing was tested'
    assert numbers(out) == numbers(tmp_path/'ref'), f'killed at {kills} s'
    assert not (out/'.lock').exists() and not list(out.rglob('.*.tmp'))
    for label in ('pythia', 'infini'):
        assert (out/label/'model'/'model.safetensors').exists() and not (out/label/'checkpoint.safetensors').exists()


def test_resume_refuses_other_settings_and_a_missing_run(tmp_path):
    done = subprocess.run(['newllm-experiment', '--models', 'pythia', '--preset', 'smoke', '--epochs', '1', '--no-progress', '--out', str(tmp_path/'run')],
                          capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    other = subprocess.run(['newllm-experiment', '--resume', str(tmp_path/'run'), '--lr', '0.1'], capture_output=True, text=True, env=ENV, timeout=600)
    assert other.returncode != 0 and 'lr: 0.003 → 0.1' in other.stderr
    none = subprocess.run(['newllm-experiment', '--resume', str(tmp_path/'nothing')], capture_output=True, text=True, env=ENV, timeout=600)
    assert none.returncode != 0 and 'nothing to resume' in none.stderr
