"""
=================================================
Down syndrome mice: genotype in the salient space
=================================================

The Mice Protein Expression data (UCI, Higuera, Gardiner and Cios, 2015) hold
the expression levels of 77 proteins in the cortex of mice, split as in the
contrastive PCA paper (Abid et al., 2018) by
:func:`~sklearn_sepclr.datasets.load_mice_protein`:

* target: mice exposed to shock therapy, either Control or Ts65Dn (a model of
  Down syndrome);
* background: Control mice not exposed to it.

The protein levels vary mostly with factors that both groups share (the mouse,
the experimental condition); the genotype, a target-only factor, is hard to
see with PCA. We compare the salient space of
:class:`~sklearn_sepclr.SepCLRTransformer` with contrastive PCA
(:class:`~sklearn_sepclr.baselines.ContrastivePCA`) and PCA.
"""

# %%
# The data
# --------
# Protein levels have different scales: standardise them, with a scaler
# fitted on both groups.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from sklearn_sepclr import SepCLRTransformer
from sklearn_sepclr.baselines import ContrastivePCA
from sklearn_sepclr.datasets import load_mice_protein

data = load_mice_protein()
scaler = StandardScaler().fit(np.vstack([data.X_background, data.X_target]))
X_background = scaler.transform(data.X_background)
X_target = scaler.transform(data.X_target)
genotype = data.target_attributes["genotype"]  # 0 Control, 1 Ts65Dn
print(X_background.shape, X_target.shape, np.bincount(genotype))

# %%
# Three methods
# -------------
# PCA sees the target only; contrastive PCA and SepCLR also see the
# background. For the plot, SepCLR gets a two-dimensional salient space.
pca = PCA(n_components=2).fit(X_target)
cpca = ContrastivePCA(n_components=2, alpha=1.0).fit(X_background, X_target)
sepclr = SepCLRTransformer(
    n_common=8,
    n_salient=2,
    hidden_layer_sizes=(64, 64),
    max_epochs=40,
    batch_size=128,
    output="salient",
    random_state=0,
).fit(X_background, X_target)

embeddings = {
    "PCA": pca.transform(X_target),
    "Contrastive PCA": cpca.transform(X_target),
    "SepCLR (salient space)": sepclr.transform(X_target),
}

# %%
# How well does a line in each embedding separate the genotypes? A logistic
# regression, cross-validated over mice (the 15 measurements of a mouse are
# never split between training and test; ``data.target_mouse`` tells the
# mouse of each row). The embeddings themselves were fitted on all the
# mice: this measures how visible the genotype is, not a held-out
# prediction.
cv = GroupKFold(n_splits=3)
for name, Z in embeddings.items():
    scores = cross_val_score(
        LogisticRegression(),
        Z,
        genotype,
        groups=data.target_mouse,
        cv=cv,
        scoring="balanced_accuracy",
    )
    print(f"{name:>24}: balanced accuracy = {scores.mean():.2f}")

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
for ax, (name, Z) in zip(axes, embeddings.items(), strict=True):
    for label, colour, text in [(0, "tab:blue", "Control"), (1, "tab:red", "Ts65Dn")]:
        ax.scatter(*Z[genotype == label].T, s=10, c=colour, label=text, alpha=0.7)
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].legend(title="genotype")
plt.show()

# %%
# Both contrastive methods bring the genotype forward, where PCA of the
# target mixes the two genotypes. Each cloud is made of few mice (the
# target holds 18, with 15 measurements each), so the structure within a
# genotype is mostly the mouse.
