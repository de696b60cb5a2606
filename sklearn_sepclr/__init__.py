"""sklearn-sepclr: contrastive analysis the scikit-learn way.

Separate the *common* factors of variation that a target dataset shares with
a background dataset from the *salient* factors that only the target has,
with SepCLR (Louiset et al., ICLR 2024) as a scikit-learn transformer.
"""

from ._augment import ImageAugmentation, ScarfAugmentation, TabularAugmentation
from ._net import TrainingDivergedError
from ._transformer import SepCLRTransformer
from ._version import __version__
from .baselines import ContrastivePCA
from .utils import stack_groups

__all__ = [
    "ContrastivePCA",
    "ImageAugmentation",
    "SepCLRTransformer",
    "ScarfAugmentation",
    "TabularAugmentation",
    "TrainingDivergedError",
    "stack_groups",
    "__version__",
]
