"""Order of the examples in the gallery: what a first-time reader needs first."""

EXAMPLE_ORDER = (
    "plot_quickstart.py",
    "plot_pipelines.py",
    "plot_mice_protein.py",
    "plot_mnist_on_grass.py",
    "plot_training_diagnostics.py",
    "plot_custom_encoder.py",
)


class ExampleOrder:
    """sphinx-gallery sort key: the order above, then any other file by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        # sphinx-gallery and Sphinx compare configurations by their repr.
        return f"{type(self).__name__}()"

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return f"{EXAMPLE_ORDER.index(filename):03d}"
        return f"999{filename}"
