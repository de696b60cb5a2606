"""Sphinx configuration of the sklearn-sepclr documentation.

Build with ``make -C docs html``: it runs every example of ``examples/``
(sphinx-gallery) and treats warnings as errors. The build needs no network:
math is rendered to MathML at build time (``_ext/mathml_math.py``) and
intersphinx links are off unless ``SEPCLR_DOCS_INTERSPHINX=1`` is set.
"""

import importlib
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # document the checkout, not an installed copy

import sklearn_sepclr  # noqa: E402

project = "sklearn-sepclr"
author = "The sklearn-sepclr developers"
copyright = "The sklearn-sepclr developers"  # noqa: A001
release = sklearn_sepclr.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "mathml_math",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
default_role = "literal"

# -- API pages ---------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- math --------------------------------------------------------------------
html_math_renderer = "mathml"

# -- links to other projects (network only) ----------------------------------
# Fetching inventories needs the network, which the build must not need:
# links to Python, NumPy, scikit-learn, PyTorch and skorch are made only when
# SEPCLR_DOCS_INTERSPHINX=1. Without them, references render as plain code.
intersphinx_mapping = {}
if os.environ.get("SEPCLR_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    }
intersphinx_timeout = 10

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-sepclr {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "navigation_with_keys": False,
}
html_sidebars = {"index": [], "install": [], "changelog": []}

# -- gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # Only plot_*.py scripts are gallery examples; other scripts in examples/
    # (e.g. distributed_train.py, run with torchrun) are not shown or run.
    "ignore_pattern": r"(^|/)(?!plot_)[^/]+\.py$",
    "within_subsection_order": "gallery_order.ExampleOrder",  # docs/_ext
    "doc_module": ("sklearn_sepclr",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_sepclr": None},
    "remove_config_comments": True,
    # A failing example fails the build (after all examples have run).
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
}

# Matplotlib's Agg backend for the examples, without a display.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


# -- keep the API page complete ------------------------------------------------
_DOCUMENTED_MODULES = [
    "sklearn_sepclr",
    "sklearn_sepclr.losses",
    "sklearn_sepclr.datasets",
    "sklearn_sepclr.metrics",
    "sklearn_sepclr.baselines",
]


def _check_api_page(app):
    """Warn (an error under -W) about a public name missing from api.rst."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    api = (HERE / "api.rst").read_text(encoding="utf-8")
    for module_name in _DOCUMENTED_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            if name.startswith("__"):
                continue
            if f"\n   {name}\n" not in api and f".. data:: {name}\n" not in api:
                logger.warning(
                    "%s.%s is public (in __all__) but not listed in api.rst",
                    module_name,
                    name,
                )


def setup(app):
    app.connect("builder-inited", _check_api_page)
