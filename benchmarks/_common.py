"""Helpers shared by the benchmark scripts: a peak-memory probe, a
callback that ends a fit early, a cosine learning-rate schedule and a
description of the machine."""

import gc
import os
import platform
import resource
import sys
import threading

import torch
from skorch.callbacks import Callback, LRScheduler


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


def cosine_schedule(epochs):
    """A ``callbacks`` entry that decays the learning rate to 0 over ``epochs``.

    skorch's ``LRScheduler`` with PyTorch's ``CosineAnnealingLR``, stepped at
    the end of each epoch, named ``"lr_schedule"``.
    """
    policy = torch.optim.lr_scheduler.CosineAnnealingLR
    return ("lr_schedule", LRScheduler(policy=policy, T_max=epochs))


def current_rss():
    """Resident set size of this process in bytes (None without /proc)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def maxrss():
    """Peak RSS of the process so far, in bytes (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class PeakRSS:
    """Sample the RSS in a thread while the block runs; ``growth`` = peak - start."""

    def __init__(self, interval=0.002):
        self.interval = interval

    def __enter__(self):
        gc.collect()
        self.maxrss_before = maxrss()
        self.start = current_rss()
        if self.start is None:  # no /proc: ru_maxrss alone
            self.start = self.maxrss_before
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            rss = current_rss()
            if rss is not None:
                self.peak = max(self.peak, rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        rss = current_rss()
        if rss is not None:
            self.peak = max(self.peak, rss)
        peak = maxrss()
        if peak > self.maxrss_before:
            # The process peak rose during the block: that peak is the block's.
            self.peak = max(self.peak, peak)

    @property
    def growth(self):
        return self.peak - self.start


def _cpu_model():
    """The processor's name (``/proc/cpuinfo`` on Linux), or what ``platform`` says."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info(device, threads):
    """Where a benchmark ran: versions, CPU, threads, device, GPU name.

    The CPU's model and the instruction set torch's kernels use
    (``cpu_capability``) are kept because they change float round-off: a
    CPU fit with the same code, seed and versions can end a few probe points
    apart on another processor.
    """
    import numpy
    import sklearn
    import skorch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "device": str(device),
        "cuda": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    }
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    return info
