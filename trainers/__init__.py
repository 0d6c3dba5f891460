"""Training methods for therapy models: SFT, DPO, MODPO, joint-loss DPO, reward models, DPO soups, and TRL's
IPO, hinge, robust DPO, CPO, SimPO, ORPO and KTO.

Every method is a `Trainer` registered by name (`get_trainer("modpo")`), configured by a dataclass that
subclasses the matching TRL config with the paper's defaults, and run from a TOML file by `train_main`
(`theraeval train <config.toml>`). See docs/training.md.
"""

from trainers._base import (
    PreparedRun,
    Trainer,
    TrainingSpec,
    TrainOutput,
    available_trainers,
    get_trainer,
    register_trainer,
)
from trainers._dpo import DPOMethod, DPOTrainConfig
from trainers._entry import (
    available_presets,
    format_summary,
    run_training,
    spec_from_config,
    sweep_main,
    train_main,
)
from trainers._joint_loss import JointLossConfig, JointLossMethod, JointLossTrainer, joint_logits
from trainers._lora import LoraSpec
from trainers._modpo import (
    MarginCollator,
    MODPOConfig,
    MODPOMethod,
    MODPOTrainer,
    check_margins,
    compute_margins,
)
from trainers._reward_model import RewardModel, RewardModelConfig, RewardModelMethod, reward_input_ids
from trainers._sft import SFTMethod, SFTTrainConfig
from trainers._soup import SoupConfig, SoupMethod, soup_adapters, soup_full_weights
from trainers._sweep import parse_weights
from trainers._trl_losses import (
    CPOTrainConfig,
    HingeDPOConfig,
    IPOConfig,
    KTOTrainConfig,
    ORPOTrainConfig,
    RobustDPOConfig,
    SimPOConfig,
)

__all__ = [
    "parse_weights",
    "sweep_main",
    "CPOTrainConfig",
    "HingeDPOConfig",
    "IPOConfig",
    "KTOTrainConfig",
    "ORPOTrainConfig",
    "RobustDPOConfig",
    "SimPOConfig",
    "DPOMethod",
    "DPOTrainConfig",
    "JointLossConfig",
    "JointLossMethod",
    "JointLossTrainer",
    "LoraSpec",
    "MODPOConfig",
    "MODPOMethod",
    "MODPOTrainer",
    "MarginCollator",
    "PreparedRun",
    "RewardModel",
    "RewardModelConfig",
    "RewardModelMethod",
    "TrainingSpec",
    "SFTMethod",
    "SFTTrainConfig",
    "SoupConfig",
    "SoupMethod",
    "TrainOutput",
    "Trainer",
    "available_presets",
    "available_trainers",
    "format_summary",
    "check_margins",
    "compute_margins",
    "get_trainer",
    "joint_logits",
    "register_trainer",
    "reward_input_ids",
    "run_training",
    "soup_adapters",
    "soup_full_weights",
    "spec_from_config",
    "train_main",
]
