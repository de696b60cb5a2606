"""
=============================================
Pipelines, grid search and cross-validation
=============================================

In a study, ``y`` is usually what a downstream model predicts (a diagnosis,
a subtype), not the group of each sample. :class:`~sklearn_sepclr.SepCLRTransformer`
therefore also takes the group as metadata, ``sample_group``, which works in
:class:`~sklearn.pipeline.Pipeline`,
:class:`~sklearn.model_selection.GridSearchCV` and
:func:`~sklearn.model_selection.cross_val_score`, with and without scikit-learn's
metadata routing.

Here the background is a set of healthy controls and the target a set of
patients of two subtypes (the salient factor of
:func:`~sklearn_sepclr.datasets.make_contrastive_blobs`). The downstream task
is the diagnosis: healthy, subtype A or subtype B.
"""

# %%
# The data
# --------
import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sepclr import SepCLRTransformer, stack_groups
from sklearn_sepclr.datasets import make_contrastive_blobs

data = make_contrastive_blobs(n_background=150, n_target=150, random_state=0)
X, group = stack_groups(data.X_background, data.X_target)  # group: 0 control, 1 patient
subtype = np.r_[np.full(150, -1), data.target_attributes["salient"]]
diagnosis = np.array(["healthy", "subtype A", "subtype B"])[subtype + 1]
print(X.shape, np.unique(diagnosis, return_counts=True))

# %%
# A pipeline with the group as ``sample_group``
# ---------------------------------------------
# The group goes to the SepCLR step by its name in the pipeline; the
# classifier gets ``y``. The pipeline predicts the diagnosis from the salient
# features only (``output="salient"``): the common factor does not help to
# diagnose.
sepclr = SepCLRTransformer(
    n_common=4,
    n_salient=4,
    hidden_layer_sizes=(32, 32),
    max_epochs=10,
    batch_size=64,
    output="salient",
    random_state=0,
)
pipe = make_pipeline(StandardScaler(), sepclr, LogisticRegression())
pipe.fit(X, diagnosis, sepclrtransformer__sample_group=group)
print("training accuracy:", pipe.score(X, diagnosis))

# %%
# Cross-validation and grid search
# --------------------------------
# ``cross_val_score`` passes ``sample_group`` to ``fit`` through ``params``
# and splits it along with the samples; ``GridSearchCV.fit`` takes it as a
# keyword. The model is selected by the downstream score, as recommended for
# SepCLR (its own ``score``, minus the loss, is not comparable across
# settings that change the loss).
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
scores = cross_val_score(
    pipe, X, diagnosis, cv=cv, params={"sepclrtransformer__sample_group": group}
)
print(f"cross-validated accuracy: {scores.mean():.2f} +/- {scores.std():.2f}")

search = GridSearchCV(
    pipe,
    {"sepclrtransformer__n_salient": [1, 4]},
    cv=cv,
)
search.fit(X, diagnosis, sepclrtransformer__sample_group=group)
print("best parameters:", search.best_params_)
results = search.cv_results_
for params, score in zip(results["params"], results["mean_test_score"], strict=True):
    print(f"  {params}: {score:.2f}")

# %%
# With metadata routing
# ---------------------
# With routing enabled, the SepCLR step requests ``sample_group`` once, and
# the metadata is passed by its own name to any meta-estimator.
sklearn.set_config(enable_metadata_routing=True)

routed = make_pipeline(
    StandardScaler(),
    clone(sepclr).set_fit_request(sample_group=True),
    LogisticRegression(),
)
scores = cross_val_score(routed, X, diagnosis, cv=cv, params={"sample_group": group})
print(f"cross-validated accuracy (routing): {scores.mean():.2f} +/- {scores.std():.2f}")

# %%
# Routing is a global setting: switch it off again.
sklearn.set_config(enable_metadata_routing=False)
