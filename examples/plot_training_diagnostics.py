"""
====================
Training diagnostics
====================

Two checks tell whether SepCLR trained as intended:

* the per-epoch log of every term of the loss, ``history_``;
* the background-collapse diagnostic: the loss pulls the salient codes of
  background samples to the constant :math:`s' = 0`, so they should end up
  much closer to it than those of target samples
  (:func:`~sklearn_sepclr.metrics.background_collapse`).

We train twice on :func:`~sklearn_sepclr.datasets.make_contrastive_blobs`:
with the default background weight, and with the background term switched
off (``background_weight=0``), to see what the diagnostic catches.
"""

# %%
# Train
# -----
import matplotlib.pyplot as plt
import numpy as np

from sklearn_sepclr import SepCLRTransformer
from sklearn_sepclr.datasets import make_contrastive_blobs
from sklearn_sepclr.losses import TERM_NAMES
from sklearn_sepclr.metrics import background_collapse

data = make_contrastive_blobs(n_background=300, n_target=300, random_state=0)
params = dict(
    n_common=8,
    n_salient=8,
    hidden_layer_sizes=(64, 64),
    max_epochs=20,
    batch_size=128,
    random_state=0,
)
est = SepCLRTransformer(**params).fit(data.X_background, data.X_target)
no_background = SepCLRTransformer(background_weight=0, **params).fit(
    data.X_background, data.X_target
)

# %%
# The loss terms, epoch by epoch
# ------------------------------
# ``history_`` is a skorch history: ``history_[:, "train_loss"]`` is the
# total loss of each epoch, ``history_[:, "train_<term>"]`` each unweighted
# term. The total loss should fall; the terms trade off against each other
# (the uniformities spread the codes, which costs some alignment). The
# telling curve here is the background term: near 0 with its default
# weight, large without it, where the background salient codes spread like
# the target's.
epochs = est.history_[:, "epoch"]
fig, axes = plt.subplots(2, 5, figsize=(16, 6), layout="constrained", sharex=True)
axes = axes.ravel()
axes[0].plot(epochs, est.history_[:, "train_loss"], color="black")
axes[0].set_title("total loss")
# The six terms of the paper's objective, then the three terms on the
# representations that the package adds: their k-JEM
# (``representation_jem_weight``), their cross-correlation
# (``decorrelation_weight``) and the background's share of the salient
# features' variance (``background_spread_weight``, off by default but
# measured whenever another term reads the representations).
for ax, term in zip(axes[1:], TERM_NAMES, strict=True):
    ax.plot(epochs, est.history_[:, f"train_{term}"], label="default")
    ax.plot(epochs, no_background.history_[:, f"train_{term}"], "--", label="background_weight=0")
    ax.set_title(term.replace("_", " "))
axes[1].legend(fontsize="small")
for ax in axes[5:]:
    ax.set_xlabel("epoch")
plt.show()


# %%
# Background collapse
# -------------------
# ``project`` returns the codes the loss works on: the normalised common
# projections, then the salient projections (``n_salient`` columns).
def salient_codes(model, X):
    return model.project(X)[:, model.n_common :]


for name, model in [("default", est), ("background_weight=0", no_background)]:
    collapse = background_collapse(
        salient_codes(model, data.X_background), salient_codes(model, data.X_target)
    )
    print(
        f"{name:>20}: background norm {collapse.background_norm:.2f}, "
        f"target norm {collapse.target_norm:.2f}, ratio {collapse.ratio:.2f}"
    )

# %%
# A ratio near 0 means the salient space carries no information about the
# background, as intended; without the background term the background codes
# spread as much as the target's. Increase ``background_weight`` when the
# ratio stays high.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained", sharey=True)
models = [("default", est), ("background_weight=0", no_background)]
for ax, (name, model) in zip(axes, models, strict=True):
    for X, label in [(data.X_background, "background"), (data.X_target, "target")]:
        norms = np.linalg.norm(salient_codes(model, X), axis=1)
        ax.hist(norms, bins=30, alpha=0.6, label=label)
    ax.set_title(name)
    ax.set_xlabel("norm of the salient projection")
axes[0].set_ylabel("samples")
axes[0].legend()
plt.show()
