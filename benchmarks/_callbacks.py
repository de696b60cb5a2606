"""Callbacks shared by the benchmark scripts."""

from skorch.callbacks import Callback


class StopAfter(Callback):
    """End ``fit`` after ``n_batches`` training batches (a partial epoch).

    It raises KeyboardInterrupt, which skorch ends a fit on; the estimator
    then warns and keeps its last completed epoch.
    """

    def __init__(self, n_batches):
        self.n_batches = n_batches

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.seen_ += 1
            if self.seen_ >= self.n_batches:
                raise KeyboardInterrupt
