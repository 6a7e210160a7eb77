"""Every experiment preset reads the memory: each memory model gets at least `MIN_SEGMENTS` segments per training
sample at every preset, alone and adjusted for every experiment, in every preset table (the runner's, distillation's);
and every table answers for every GPU preset (`colab_t4` is derived from `colab_l4` where a table has none).
The case this would have caught: seed 001 at `colab_l4` trained 256-token samples with 256-token segments."""
import pytest, torch

from newllm.experiments.presets import PRESETS, EXPERIMENT_PRESETS, GPU_VARIANTS, MIN_SEGMENTS, gpu_preset, preset_table, select_preset
from newllm.experiments.runner import check_config, memory_segments
from newllm.distill.experiment import PRESETS as DISTILL_PRESETS
from newllm.continuous.experiment import PRESETS as LCT_PRESETS
from newllm.context_kv.experiment import PRESETS as CONTEXT_KV_PRESETS

_CPU = {} if torch.cuda.is_available() else dict(precision='auto')   # fp16 presets need a GPU to pass `check()`


@pytest.mark.parametrize('experiment', [None, *EXPERIMENT_PRESETS])
@pytest.mark.parametrize('preset', list(PRESETS))
def test_runner_presets_read_the_memory(preset, experiment):
    cfg = select_preset(preset_table(experiment), preset)
    check_config(select_preset(preset_table(experiment), preset, **_CPU))
    segs = memory_segments(cfg)
    if any(':' not in m and m != 'pythia' for m in cfg.models): assert segs, (preset, experiment, cfg.models)
    assert all(n >= MIN_SEGMENTS for n in segs.values()), (preset, experiment, cfg.seq_length, segs)


@pytest.mark.parametrize('preset', sorted(set(DISTILL_PRESETS) | set(GPU_VARIANTS)))
def test_distill_presets_read_the_memory(preset):
    cfg = select_preset(DISTILL_PRESETS, preset)
    assert cfg.seq_length // cfg.segment_length >= MIN_SEGMENTS, (preset, cfg.seq_length, cfg.segment_length)


@pytest.mark.parametrize('table', [PRESETS, DISTILL_PRESETS, LCT_PRESETS, CONTEXT_KV_PRESETS],
                         ids=['runner', 'distill', 'lct', 'context_kv'])
def test_every_table_has_the_gpu_presets(table):
    for name, (base, extra) in GPU_VARIANTS.items():
        cfg = select_preset(table, name)
        assert cfg.preset == name and getattr(cfg, 'train', cfg).precision == extra['precision'], cfg   # configs that compose TrainConfig, or not yet


def test_the_gpu_picks_the_preset():
    assert [gpu_preset(n) for n in ('Tesla T4', 'NVIDIA L4', 'NVIDIA A100-SXM4-80GB', 'NVIDIA H100 PCIe')] == \
           ['colab_t4', 'colab_l4', 'colab_l4', 'colab_l4']
    assert gpu_preset('Tesla V100-SXM2-16GB', bf16=False) == 'colab_t4'
