"""The public surface: a short, sorted __all__ whose every name exists and has a docstring with an example."""

import importlib

import pytest

PUBLIC_MODULES = ["m1reason", "m1reason.model", "m1reason.kernels", "m1reason.errors", "m1reason.generator",
                  "m1reason.engine"]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(module_name):
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_every_public_name_has_a_docstring_with_an_example():
    import m1reason

    for name in m1reason.__all__:
        doc = getattr(m1reason, name).__doc__ or ""
        assert ">>>" in doc, f"m1reason.{name} has no doctest example"
