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


@pytest.mark.parametrize("obj", list(_public()))
def test_numpydoc_sections_and_a_doctest(obj):
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc and ">>>" in doc
    if inspect.isfunction(obj):
        assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    elif not issubclass(obj, (Exception, tuple)):  # exceptions, named tuples
        assert "Parameters\n----------" in doc
    # Every argument is documented, under its own name.
    section = doc.split("Parameters\n----------", 1)[-1]
    documented = {
        name.strip()
        for line in section.splitlines()
        if " : " in line and not line.startswith(" ")
        for name in line.split(" : ")[0].split(",")
    }
    target = obj if inspect.isfunction(obj) else obj.__init__
    if target is not object.__init__ and "Parameters\n----------" in doc:
        arguments = [
            name
            for name, p in inspect.signature(target).parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        assert set(arguments) <= documented, set(arguments) - documented


def test_every_public_module_lists_its_names():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        assert module.__all__, module_name
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"
