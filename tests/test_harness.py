"""lm-evaluation-harness runs newllm models (cross-library check; skipped when `lm_eval` is not installed).

The `newllm` model class goes through lm_eval's own evaluator and through the `newllm-eval` command
line, on small task files written here (a local JSONL per task, no hub): multiple choice
(`loglikelihood`), perplexity (`loglikelihood_rolling`) and generation (`generate_until`). On a
converted Pythia its answers equal those of lm_eval's own `hf` model on the original
`transformers` model.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest

lm_eval = pytest.importorskip('lm_eval')
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('HF_DATASETS_OFFLINE', '1')

import torch
from lm_eval.tasks import TaskManager
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

import newllm.tools.harness  # registers the `newllm` model with lm_eval
from newllm.convert import from_gpt_neox
from newllm.data import offline_corpus, pythia_tokenizer
from newllm.registry import create_model

ROOT = Path(__file__).resolve().parents[1]

MC = [dict(question='The capital of France is', choices=[' Paris', ' a banana', ' blue'], label=0),
      dict(question='Water freezes at zero degrees', choices=[' Celsius', ' running', ' the'], label=0),
      dict(question='The opposite of hot is', choices=[' cold', ' seven', ' of'], label=0)]
GEN = [dict(question='Question: What is the capital of France?\nAnswer:', answer=' Paris'),
       dict(question='Question: How many legs does a spider have?\nAnswer:', answer=' eight')]


def write_tasks(folder: Path):
    "Three tasks over local JSONL files: multiple choice, rolling perplexity (real text), generation."
    docs = [dict(text=t[:600]) for t in offline_corpus().shuffle(seed=0).select(range(3))['text']]
    for name, rows in (('mc', MC), ('ppl', docs), ('gen', GEN)):
        (folder/f'{name}.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    common = lambda name: f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {folder/name}.jsonl\ntest_split: test\n"
    (folder/'newllm_mc.yaml').write_text(f"task: newllm_mc\n{common('mc')}" + textwrap.dedent("""\
        output_type: multiple_choice
        doc_to_text: "{{question}}"
        doc_to_choice: "{{choices}}"
        doc_to_target: "{{label}}"
        target_delimiter: ""
        metric_list:
          - metric: acc
            aggregation: mean
            higher_is_better: true
        """))
    (folder/'newllm_ppl.yaml').write_text(f"task: newllm_ppl\n{common('ppl')}" + textwrap.dedent("""\
        output_type: loglikelihood_rolling
        doc_to_text: ""
        doc_to_target: "{{text}}"
        metric_list:
          - metric: word_perplexity
          - metric: byte_perplexity
          - metric: bits_per_byte
        """))
    (folder/'newllm_gen.yaml').write_text(f"task: newllm_gen\n{common('gen')}" + textwrap.dedent("""\
        output_type: generate_until
        doc_to_text: "{{question}}"
        doc_to_target: "{{answer}}"
        generation_kwargs:
          until: ["\\n"]
          max_gen_toks: 8
          do_sample: false
        metric_list:
          - metric: exact_match
            aggregation: mean
            higher_is_better: true
        """))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('harness')
    write_tasks(tmp)
    tok = pythia_tokenizer()
    torch.manual_seed(0)
    hf = GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=50304, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                          intermediate_size=64, max_position_embeddings=2048)).eval()
    with torch.no_grad():
        for p in hf.parameters(): p.add_(torch.randn_like(p) * 0.05)
    hf.save_pretrained(tmp/'hf'); tok.save_pretrained(str(tmp/'hf'))
    from_gpt_neox(hf).save_pretrained(tmp/'pythia'); tok.save_pretrained(str(tmp/'pythia'))
    m = create_model('full_infini', vocab_size=50304, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64, segment_length=16)
    m.save_pretrained(tmp/'full_infini'); tok.save_pretrained(str(tmp/'full_infini'))
    return tmp


def evaluate(model, model_args, tasks, folder):
    out = lm_eval.simple_evaluate(model=model, model_args=model_args, tasks=tasks, task_manager=TaskManager(include_path=str(folder)),
                                  device='cpu', batch_size=1)
    return out['results']


def test_converted_pythia_scores_as_lm_eval_hf_model(setup):
    tasks = ['newllm_mc', 'newllm_ppl']
    ours = evaluate('newllm', f'pretrained={setup/"pythia"},max_length=2048', tasks, setup)
    theirs = evaluate('hf', f'pretrained={setup/"hf"},dtype=float32', tasks, setup)
    assert ours['newllm_mc']['acc,none'] == theirs['newllm_mc']['acc,none']
    for metric in ('word_perplexity,none', 'byte_perplexity,none', 'bits_per_byte,none'):
        assert ours['newllm_ppl'][metric] == pytest.approx(theirs['newllm_ppl'][metric], rel=1e-4), metric


def test_newllm_eval_command_line_streams_a_memory_model(setup):
    "`newllm-eval` = lm_eval's command line with `newllm` registered; documents stream through the memory in 32-token calls."
    cmd = ['--model', 'newllm', '--model_args', f'pretrained={setup/"full_infini"},max_length=32', '--tasks', 'newllm_ppl,newllm_gen,newllm_mc',
           '--include_path', str(setup), '--device', 'cpu', '--output_path', str(setup/'out')]
    code = f'import sys; from newllm.tools.harness import main; sys.argv = ["newllm-eval"] + {cmd!r}; main()'
    env = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(next((setup/'out').rglob('results*.json')).read_text())['results']
    assert results['newllm_ppl']['word_perplexity,none'] > 1
    assert 'exact_match,none' in results['newllm_gen'] and 'acc,none' in results['newllm_mc']
