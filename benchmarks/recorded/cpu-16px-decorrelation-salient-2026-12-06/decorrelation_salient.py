"""Run quality.py with the decorrelation term trained through the salient encoder.

An experiment of 6 Dec 2026, not a library option: the library's term ``D``
(``decorrelation_weight``) trains the common encoder, the salient
representations entering it as constants. This script swaps the two sides
(the common representations enter as constants) for one process, then hands
its arguments to quality.py, so ``--sepclr-param decorrelation_weight=W``
weights the swapped term. The runs beside this file were made with it:

    python decorrelation_salient.py --datasets textures --n-samples 2000 \
        --image-size 16 --methods sepclr --features both --threads 1 \
        --seed S --sepclr-param decorrelation_weight=W --json dsalW_16_textures_S.json
"""

import functools
import importlib.util
import sys
from pathlib import Path

from sklearn_sepclr import losses

BENCHMARKS = Path(__file__).resolve().parents[2]

#: ``D`` with the gradient kept on the salient side only.
_salient_side_decorrelation = functools.partial(losses._decorrelation, encoder="salient")


if __name__ == "__main__":
    losses._decorrelation = _salient_side_decorrelation
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("quality", BENCHMARKS / "quality.py")
    quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quality)
    quality.main(sys.argv[1:])
