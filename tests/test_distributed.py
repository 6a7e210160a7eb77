"""Data parallelism on CPU: two `torchrun` processes (gloo) against one process, with newllm's training engine."""
import json, os, subprocess, sys
from pathlib import Path

import pytest
import torch

from newllm.files import load_tensors

HERE = Path(__file__).parent
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600, **kw)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    run([sys.executable, str(HERE/'ddp_train.py'), str(out)])
    run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29531', str(HERE/'ddp_train.py'), str(out)])
    return out


def test_two_processes_train_as_one_on_the_combined_batch(trained):
    one = load_tensors(trained/'weights_1_0.safetensors')[0]
    rank0, rank1 = (load_tensors(trained/f'weights_2_{r}.safetensors')[0] for r in (0, 1))
    for name in one:
        assert torch.equal(rank0[name], rank1[name]), f'{name} differs between the ranks'
        torch.testing.assert_close(rank0[name], one[name], atol=1e-5, rtol=1e-5, msg=f'{name}: 2 processes vs 1')


def test_validation_ppl_is_the_single_process_value(trained):
    one = json.loads((trained/'history_1_0.json').read_text())
    for r in (0, 1):
        two = json.loads((trained/f'history_2_{r}.json').read_text())
        for a, b in zip(one['records'], two['records']):
            assert a['val_ppl'] == pytest.approx(b['val_ppl'], rel=1e-6)
            assert a['train_ppl'] == pytest.approx(b['train_ppl'], rel=1e-5)


def test_the_runner_under_torchrun_writes_once(tmp_path):
    args = ['--models', 'infini', '--preset', 'smoke', '--epochs', '1', '--precision', 'fp32', '--no-progress']
    two = run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29532', '-m', 'newllm.experiments.cli',
               *args, '--out', str(tmp_path/'two')])
    assert two.stdout.count('### Perplexity') == 1                              # only the main process prints
    res = json.loads((tmp_path/'two'/'results.json').read_text())
    assert res['models'][0]['history']['records'][0]['val_ppl'] > 0
    assert not (tmp_path/'two'/'.lock').exists() and not list((tmp_path/'two').rglob('*.tmp'))
