"""Every public name has a numpydoc docstring with a runnable example."""

import importlib
import inspect

import pytest

MODULES = [
    "sklearn_sepclr",
    "sklearn_sepclr.losses",
    "sklearn_sepclr.datasets",
    "sklearn_sepclr.metrics",
    "sklearn_sepclr.baselines",
]


def _public():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield pytest.param(obj, id=f"{module_name}.{name}")


@pytest.mark.parametrize("obj", _public())
def test_numpydoc_sections_and_a_doctest(obj):
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc and ">>>" in doc
    if inspect.isfunction(obj):
        assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    elif not issubclass(obj, (Exception, tuple)):  # exceptions, named tuples
        assert "Parameters\n----------" in doc


def test_every_public_module_lists_its_names():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        assert module.__all__, module_name
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"
