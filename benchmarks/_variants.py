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

#: The SepCLR parameters that weight or shape the objective and the
#: optimiser's steps alone: they change neither the networks a fit builds
#: nor the batches it draws (``background_mixing`` does: the batch-norm
#: statistics see the mixed images), so no value of theirs changes the
#: untrained networks.
OBJECTIVE_PARAMS = frozenset({
    "temperature", "uniformity_weight", "salient_weight", "background_weight",
    "jem_weight", "representation_jem_weight", "representation_jem_encoder",
    "decorrelation_weight", "decorrelation_encoder", "background_spread_weight",
    "salient_uniformity", "weight_decay", "max_grad_norm",
})

#: quality.py's options that shape the objective or the optimiser's schedule
#: alone (``jem_bandwidth``, ``lr_schedule``), or the epochs that the
#: untrained variant overrides.
_UNTRAINED_OPTIONS = frozenset({"jem_bandwidth", "lr_schedule", "epochs", "image_epochs"})

#: Per variant, the settings that cannot change what it computes: the
#: library's parameters and quality.py's options.
_IGNORED = {"untrained": (OBJECTIVE_PARAMS, _UNTRAINED_OPTIONS)}

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


def ignored_settings(method):
    """The settings that cannot change what ``method`` computes, as the
    pair (SepCLR parameters, quality.py options): the objective's and the
    schedule's for the untrained networks, which take no step that moves a
    weight; none for every other method.

    ``targets.py`` leaves them out when it asks whether two seeds of a
    method were trained alike, so the untrained networks recorded under
    one default of a term's weight pool with those recorded under another.
    """
    params, options = _IGNORED.get(SEPCLR_VARIANTS.get(method), ((), ()))
    return frozenset(params), frozenset(options)
