"""
==========
Quickstart
==========

Fit :class:`~sklearn_sepclr.SepCLRTransformer` on a background and a target
dataset, and look at the common and the salient spaces it learns.

The data come from :func:`~sklearn_sepclr.datasets.make_contrastive_blobs`:
both groups share a *common* factor (one of three clusters, with a large
spread), and only the target has a *salient* factor (one of two clusters, with
a smaller spread). The common factor carries most of the variance, and
nothing in the target alone tells which factor it shares with the
background: contrastive analysis uses the background to tell them apart.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from sklearn_sepclr import SepCLRTransformer
from sklearn_sepclr.datasets import make_contrastive_blobs
from sklearn_sepclr.metrics import kmeans_ari

data = make_contrastive_blobs(n_background=300, n_target=300, random_state=0)
X_background, X_target = data.X_background, data.X_target
common = data.target_attributes["common"]  # shared factor, known here
salient = data.target_attributes["salient"]  # target-only factor
print(X_background.shape, X_target.shape)

# %%
# PCA of the target sees both factors on this easy problem, but cannot tell
# them apart: its first component follows the common factor (the three
# clusters from left to right), its second the salient one (colour, below).
pca_target = PCA(n_components=2).fit_transform(X_target)

# %%
# Fit SepCLR
# ----------
# ``fit(X_background, X_target)`` takes the two datasets as they are. A small
# network and few epochs suffice for this toy problem; the default loss
# weights (``salient_weight=1``, and ``background_weight="auto"``, which is
# 30 on tabular data) are kept.
est = SepCLRTransformer(
    n_common=8,
    n_salient=8,
    hidden_layer_sizes=(64, 64),
    max_epochs=20,
    batch_size=128,
    random_state=0,
)
est.fit(X_background, X_target)

# %%
# ``transform`` needs no group label: it returns ``[common | salient]``
# features for any sample.
features = est.transform(X_target)
common_features, salient_features = features[:, :8], features[:, 8:]
print(est.get_feature_names_out()[[0, 8]])

# %%
# How well does each space recover each factor? k-means on each space,
# compared with the true clusters by the adjusted Rand index (1: perfect,
# 0: chance).
for space, Z in [("common", common_features), ("salient", salient_features)]:
    for factor, labels in [("common", common), ("salient", salient)]:
        ari = kmeans_ari(Z, labels, random_state=0)
        print(f"{space:>7} space, {factor:>7} factor: ARI = {ari:.2f}")

# %%
# The salient space finds the salient factor and ignores the common one;
# the common space finds mostly the common factor and ignores the salient
# one.
#
# Plot the spaces
# ---------------
# Two-dimensional views (PCA of each 8-dimensional space), coloured by the
# true factors. The salient view also shows the background samples: SepCLR
# pulls their salient codes to one point.
common_2d = PCA(n_components=2).fit_transform(common_features)
salient_pca = PCA(n_components=2).fit(salient_features)
salient_2d = salient_pca.transform(salient_features)
background_2d = salient_pca.transform(est.transform(X_background)[:, 8:])

fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
axes[0].scatter(*pca_target.T, c=salient, cmap="coolwarm", s=12)
axes[0].set_title("PCA of the target\n(colour: salient factor)")
axes[1].scatter(*common_2d.T, c=common, cmap="viridis", s=12)
axes[1].set_title("SepCLR common space\n(colour: common factor)")
axes[2].scatter(*background_2d.T, c="lightgray", s=12, label="background")
axes[2].scatter(*salient_2d.T, c=salient, cmap="coolwarm", s=12, label="target")
axes[2].set_title("SepCLR salient space\n(colour: salient factor)")
axes[2].legend(loc="best")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
