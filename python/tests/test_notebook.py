"""The example notebook, run headless in a real Jupyter kernel (nbclient and ipykernel, as
`jupyter nbconvert --execute` runs it): it runs top to bottom and shows the viewer page inline."""
import html
import re
from pathlib import Path

import pytest

from conftest import require

NOTEBOOK = Path(__file__).resolve().parent.parent.parent / "Examples" / "terrain-python.ipynb"


def executed(path: Path, folder: Path):
    """The notebook with every code cell run in order by a python3 kernel working in `folder`."""
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    require("ipykernel")
    notebook = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def test_the_example_notebook_runs_and_shows_the_viewer(torch, tmp_path):
    notebook = executed(NOTEBOOK, tmp_path)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    rich = [o.data for o in outputs if o.output_type in ("execute_result", "display_data")]
    pages = [data["text/html"] for data in rich if "<iframe" in data.get("text/html", "")]
    assert len(pages) == 1
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', pages[0]).group(1))
    assert page.lstrip().lower().startswith("<!doctype html") and "<title>surface</title>" in page
    images = [data for data in rich if "<img" in data.get("text/html", "")]
    assert len(images) == 2  # the filled contours and the trajectory
    printed = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert "1st PC" in printed and "eigenvalues" in printed
    assert (tmp_path / "python-example/run/model.onnx").exists()
