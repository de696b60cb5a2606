"""
=====================================
Your own encoder and augmentation
=====================================

:class:`~sklearn_sepclr.SepCLRTransformer` builds its networks and its random
views from two parameters that also accept callables:

* ``encoder(input_shape, n_out) -> torch.nn.Module``: called once for the
  common and once for the salient space; the module maps a batch of shape
  ``(n, *input_shape)`` to ``(n, n_out)``. The projection heads of the loss
  are added after it.
* ``augmentation(x_batch, generator) -> x_batch``: draws a random view of a
  whole batch at once, on the training device. It must keep the shape and
  take all of its randomness from ``generator`` (a :class:`torch.Generator`),
  so that ``random_state`` makes fits reproducible.

The last section calls the SepCLR loss from a hand-written training loop.
"""

# %%
# A residual MLP encoder
# ----------------------
import torch
from torch import nn

from sklearn_sepclr import SepCLRTransformer, stack_groups
from sklearn_sepclr.datasets import make_contrastive_blobs
from sklearn_sepclr.losses import sepclr_loss
from sklearn_sepclr.metrics import kmeans_ari


class ResidualMLP(nn.Module):
    """An input block, one residual block, and a linear output layer.

    BatchNorm in the blocks, as in the built-in encoder, keeps the scale of
    the hidden features steady while the contrastive loss reshapes them.
    """

    def __init__(self, n_features, n_out, width=64):
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(n_features, width), nn.BatchNorm1d(width), nn.ReLU())
        self.block = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU())
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.block(h))


def residual_encoder(input_shape, n_out):
    (n_features,) = input_shape  # tabular data: one dimension
    return ResidualMLP(n_features, n_out)


# %%
# A vectorised augmentation
# -------------------------
# Gaussian noise scaled to each feature's spread in the batch, then a random
# 20% of the entries replaced by their feature's batch mean. Using the
# batch's own statistics makes the views equally hard whatever the units of
# the features, without a fitting step. Every random number comes from
# ``generator``, on the batch's device.
def batch_scaled_noise(x, generator):
    mean, std = x.mean(dim=0), x.std(dim=0)
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    x = x + 0.1 * std * noise
    masked = torch.rand(x.shape, generator=generator, device=x.device) < 0.2
    return torch.where(masked, mean, x)


# %%
# An augmentation that needs statistics of the data can be an object with a
# ``fit(X)`` method as well; the estimator fits a copy of it on the training
# data (a tensor) before training, as the built-in
# :class:`~sklearn_sepclr.TabularAugmentation` does.
#
# Fit and evaluate
# ----------------
data = make_contrastive_blobs(n_background=300, n_target=300, random_state=0)
est = SepCLRTransformer(
    n_common=8,
    n_salient=8,
    encoder=residual_encoder,
    augmentation=batch_scaled_noise,
    max_epochs=20,
    batch_size=128,
    random_state=0,
).fit(data.X_background, data.X_target)

features = est.transform(data.X_target)
for space, Z in [("common", features[:, :8]), ("salient", features[:, 8:])]:
    for factor in ("common", "salient"):
        ari = kmeans_ari(Z, data.target_attributes[factor], random_state=0)
        print(f"{space:>7} space, {factor:>7} factor: ARI = {ari:.2f}")

# %%
# The trained networks are in ``est.net_.module_``:
print(est.net_.module_)

# %%
# The loss in your own training loop
# ----------------------------------
# :func:`~sklearn_sepclr.losses.sepclr_loss` takes the projection-head
# outputs of the two views and a boolean target mask; it returns the total
# loss and its unweighted terms. A few steps of a bare PyTorch loop:
torch.manual_seed(0)
X_all, group = stack_groups(data.X_background, data.X_target)
X = torch.as_tensor(X_all, dtype=torch.float32)
is_target = torch.as_tensor(group == 1)
common_net = nn.Sequential(residual_encoder((X.shape[1],), 8), nn.Linear(8, 8))
salient_net = nn.Sequential(residual_encoder((X.shape[1],), 8), nn.Linear(8, 8))
optimizer = torch.optim.Adam([*common_net.parameters(), *salient_net.parameters()], lr=1e-3)
generator = torch.Generator().manual_seed(0)
for step in range(5):
    view1, view2 = batch_scaled_noise(X, generator), batch_scaled_noise(X, generator)
    total, terms = sepclr_loss(
        common_net(view1),
        common_net(view2),
        salient_net(view1),
        salient_net(view2),
        is_target,
        salient_weight=1.0,
        background_weight=10.0,
    )
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    print(f"step {step}: loss {total.item():.2f}, jem {terms['jem'].item():.3f}")
