"""The package's imports flow one way: formula and ops, then engine, then nn, then what builds on
them (check, viz, step and their front ends), then cli. Read from the source with the standard
library's ``ast``: every ``import`` counts, at the top of a module or inside a function (a lazy
import still ties two modules together), so a circle cannot hide behind a function body."""

import ast
import os

import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "microreg")
MODULES = sorted(name[:-3] for name in os.listdir(PACKAGE) if name.endswith(".py"))


def imports_of(module):
    """The microreg modules that ``module`` imports anywhere in its source."""
    with open(os.path.join(PACKAGE, module + ".py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:                 # from .engine import Value
                found.add(node.module.split(".")[0])
            elif node.level == 1:                               # from . import ops
                found.update(alias.name for alias in node.names)
            elif node.level == 0 and (node.module or "").startswith("microreg."):
                found.add(node.module.split(".")[1])
            elif node.level == 0 and node.module == "microreg":
                found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("microreg."):
                    found.add(alias.name.split(".")[1])
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: imports_of(m) for m in MODULES}


def find_circle(graph):
    """One circle of imports as a list of modules (first == last), or None."""
    state = {}

    def visit(m, path):
        state[m] = "open"
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return path[path.index(n):] + [n]
            if n not in state:
                found = visit(n, path + [n])
                if found:
                    return found
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m, [m])
            if found:
                return found
    return None


def reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for n in graph[todo.pop()]:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def test_the_reader_sees_lazy_imports_and_circles():
    # the checker itself, on a made-up graph: a circle through a lazy import is found
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None
    assert "engine" in GRAPH["nn"] and "formula" in GRAPH["ops"]


def test_no_module_imports_itself_back():
    circle = find_circle(GRAPH)
    assert circle is None, "import circle: " + " → ".join(circle)


# The layers, lowest first: a module may import only from its own layer's lower neighbours and below.
LAYERS = [
    {"formula"},                     # formulas as trees (no microreg import)
    {"ops"},                         # the rule table
    {"engine"},                      # Value, backward()
    {"nn"},                          # the models, losses, optimisers, fit
]


@pytest.mark.parametrize("low", [m for layer in LAYERS for m in layer])
def test_lower_layers_never_import_higher_ones(low):
    level = next(i for i, layer in enumerate(LAYERS) if low in layer)
    allowed = set().union(*LAYERS[:level])
    higher = reachable(GRAPH, low) - allowed
    leaves = {"files", "data"}        # file reading and writing, data reading: below every layer
    assert higher <= leaves, f"{low} reaches {sorted(higher - leaves)}"


# What each leaf may import: files (reading and writing a user's file) nothing of microreg; data
# (tables from CSVs) only files, which reads its input; formula nothing.
LEAVES = {"files": set(), "data": {"files"}, "formula": set()}


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_import_nothing_of_microreg_but_files(leaf):
    if leaf not in GRAPH:
        pytest.fail(f"microreg/{leaf}.py is missing")
    assert GRAPH[leaf] <= LEAVES[leaf], f"{leaf} imports {sorted(GRAPH[leaf] - LEAVES[leaf])}"


def test_pictures_and_the_rule_table_stay_below_the_stepper():
    assert "step" not in reachable(GRAPH, "viz"), "viz (pictures) must not import the stepper"
    assert "engine" not in reachable(GRAPH, "ops"), "the rule table must not need the engine"
    assert "train" not in reachable(GRAPH, "nn"), "nn must not import train (train builds on nn)"
    assert "cli" not in set().union(*(reachable(GRAPH, m) for m in MODULES if m != "cli" and m != "__main__"))
