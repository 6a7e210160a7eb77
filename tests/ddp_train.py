"""Train a small Infini-Pythia a few steps with newllm's training engine, in one process or under `torchrun`.

Run by tests/test_distributed.py: `python ddp_train.py OUT` (one process) and
`torchrun --nproc_per_node 2 ddp_train.py OUT` (data parallel, gloo on CPU). Each process writes its final
weights and the validation PPL it computed, so the test can compare the ranks with each other and with one process.
"""
import json, sys
from pathlib import Path

import torch
from accelerate import PartialState

from newllm.data import load_samples
from newllm.files import save_tensors
from newllm.registry import create_model
from newllm.training.learner import Learner, TrainConfig, lm_batch_loss, lm_validation, seed_everything

out = Path(sys.argv[1])
state = PartialState(cpu=True)                                                     # gloo between CPU processes
splits = load_samples(n_samples=36, seq_length=32, n_val=4, n_reversal=0)          # 32 training samples: 4 full batches
seed_everything(0)
model = create_model('infini', hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, segment_length=8)
config = TrainConfig(lr=3e-3, epochs=2, batch_size=8, patience=0, precision='fp32', device='cpu', progress=False)
learn = Learner(model, splits.train, lm_batch_loss, lm_validation(splits.val), config)
history = learn.fit()
rank = state.process_index
save_tensors(out/f'weights_{state.num_processes}_{rank}.safetensors', learn.unwrapped.state_dict())
(out/f'history_{state.num_processes}_{rank}.json').write_text(json.dumps(history.to_dict()))
