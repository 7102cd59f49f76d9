"""Runs a Jupyter notebook headless without Jupyter: its code cells in order in one namespace,
each cell's outputs recorded as a kernel would send them (standard output, and the last
expression's value in its richest form: ``_repr_html_``, ``_repr_png_``, ``_repr_svg_``, or its
repr). `display(value)` is available as in IPython. Enough to check that a notebook of plain
Python runs top to bottom and what it shows; it has no magics and no shell escapes.
"""
import ast
import contextlib
import io
import json
from pathlib import Path
from typing import Any, Dict, List


def rich_output(value: Any) -> Dict[str, Any]:
    """The MIME bundle a Jupyter front end would get for `value`."""
    bundle: Dict[str, Any] = {"text/plain": repr(value)}
    for method, mime in (("_repr_html_", "text/html"), ("_repr_png_", "image/png"), ("_repr_svg_", "image/svg+xml")):
        render = getattr(value, method, None)
        if callable(render):
            data = render()
            if data is not None:
                bundle[mime] = data
    return bundle


def run_notebook(path: Path) -> List[List[Dict[str, Any]]]:
    """Each code cell's outputs (a list of MIME bundles; standard output as ``text/plain``
    under the key ``stream``). An exception in a cell propagates, naming the cell."""
    notebook = json.loads(Path(path).read_text())
    namespace: Dict[str, Any] = {"__name__": "__main__"}
    results: List[List[Dict[str, Any]]] = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        outputs: List[Dict[str, Any]] = []
        namespace["display"] = lambda value: outputs.append(rich_output(value))
        tree = ast.parse(source, filename=f"<cell {index}>")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(tree, f"<cell {index}>", "exec"), namespace)
                value = eval(compile(ast.Expression(last.value), f"<cell {index}>", "eval"), namespace) if last else None
        except Exception as error:
            raise RuntimeError(f"cell {index} failed: {error}\n{source}") from error
        if printed.getvalue():
            outputs.insert(0, {"stream": printed.getvalue()})
        if value is not None:
            outputs.append(rich_output(value))
        results.append(outputs)
    return results
