"""Package metadata of sklearn-sepclr (setuptools)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "sklearn_sepclr" / "_version.py").read_text(), re.M
).group(1)

EXTRAS = {
    "images": ["scikit-image>=0.22", "mlxtend>=0.23"],
    "distributed": ["dask[distributed]>=2023.1"],
    "test": [
        "pytest>=7",
        "pytest-timeout",
        "hypothesis>=6",
        "dask[distributed]>=2023.1",
        "pandas>=1.5",
        "contrastive",  # the benchmark's peer cPCA, so its smoke tests cover it
        "ruff",
        "scikit-image>=0.22",
        "mlxtend>=0.23",
    ],
    "docs": [
        "sphinx>=7",
        "latex2mathml",
        "numpydoc>=1.6",
        "sphinx-gallery>=0.15",
        "pydata-sphinx-theme",
        "matplotlib",
        "pandas>=1.5",
        "scikit-image>=0.22",
        "mlxtend>=0.23",
    ],
    "benchmarks": [
        "contrastive",
        "pandas>=1.5",
        "psutil",
        "scikit-image>=0.22",
        "mlxtend>=0.23",
    ],
}

setup(
    name="sklearn-sepclr",
    version=VERSION,
    description=(
        "Contrastive analysis the scikit-learn way: separate common from salient "
        "features of a target dataset with SepCLR"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=find_packages(include=["sklearn_sepclr", "sklearn_sepclr.*"]),
    package_data={"sklearn_sepclr.datasets": ["data/*.csv.gz", "data/*.rst"]},
    include_package_data=True,
    install_requires=[
        "numpy>=1.23",
        "scipy>=1.9",
        "scikit-learn>=1.6",
        "torch>=2.1",
        "skorch>=1.0",
        "pandas>=1.5",
    ],
    extras_require=EXTRAS,
    classifiers=[
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: BSD License",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
