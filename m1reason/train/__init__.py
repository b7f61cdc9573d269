"""m1reason.train: the M1 recipe (MambaInLlama init -> reverse-KL distill -> SFT -> GRPO) at any scale.

Stages are functions here (the init stage is ``m1reason.train.stages.init``; ``m1reason.train.init`` is the
weight mapping module) and subcommands of ``python -m m1reason.train``; see docs/training.md.

>>> from m1reason.train import recipe_settings
>>> sorted(recipe_settings())
['distill', 'grpo', 'sft', 'teacher']
"""

from m1reason.train.grpo import GRPOSettings, grpo
from m1reason.train.init import from_hf_llama, hybrid_config, init_hybrid, teacher_config
from m1reason.train.loop import TrainSettings, train_loop
from m1reason.train.recipe import recipe_settings, run_all, ship
from m1reason.train.stages import (
    DistillSettings,
    SFTSettings,
    TeacherShape,
    build_tokenizer,
    distill,
    sft,
    teacher,
)

__all__ = ["DistillSettings", "GRPOSettings", "SFTSettings", "TeacherShape", "TrainSettings", "build_tokenizer",
           "distill", "from_hf_llama", "grpo", "hybrid_config", "init_hybrid", "recipe_settings", "run_all",
           "sft", "ship", "teacher", "teacher_config", "train_loop"]
