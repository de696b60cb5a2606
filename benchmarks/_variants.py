"""The SepCLR variants that ``quality.py`` fits, as the parameters each sets.

A module of its own, without torch, so that ``targets.py`` can read what a
recorded method trained with without importing the training code.
"""

#: The weights of every term that ties the common and the salient spaces.
_TIES_OFF = {"jem_weight": 0.0, "representation_jem_weight": 0.0, "decorrelation_weight": 0.0}

#: What each SepCLR variant changes (``variant`` of quality.py's
#: ``_sepclr``): the two ablations switch terms off; ``untrained`` keeps the
#: initial weights.
VARIANTS = {
    "no_jem": _TIES_OFF,
    "plain": {
        **_TIES_OFF,
        "salient_weight": 0.0,
        "background_weight": 0.0,
        "background_spread_weight": 0.0,
        "output": "common",
    },
    # One epoch at a learning rate of 1e-30: Adam's steps (at most about lr)
    # leave the weights at their initial values (those initialised at 0 move
    # by ~1e-30), and batch norm sees the training data's statistics.
    "untrained": {"max_epochs": 1, "lr": 1e-30},
}

#: The SepCLR methods, each with the variant of quality.py's ``_sepclr`` it fits.
SEPCLR_VARIANTS = {
    "sepclr": "full",
    "sepclr_no_jem": "no_jem",
    "sepclr_plain": "plain",
    "sepclr_plain_target": "plain",
    "sepclr_untrained": "untrained",
}


def variant_params(method):
    """The SepCLR parameters that ``method`` sets over every other setting
    of a run (none for the full model and the methods that are not SepCLR)."""
    return dict(VARIANTS.get(SEPCLR_VARIANTS.get(method), {}))
