"""The example notebook, run headless: it runs top to bottom and shows the viewer page inline."""
import html
import re
from pathlib import Path

from notebook_runner import run_notebook

NOTEBOOK = Path(__file__).resolve().parent.parent.parent / "Examples" / "terrain-python.ipynb"


def test_the_example_notebook_runs_and_shows_the_viewer(torch):
    outputs = run_notebook(NOTEBOOK)
    pages = [bundle["text/html"] for cell in outputs for bundle in cell if "<iframe" in bundle.get("text/html", "")]
    assert len(pages) == 1
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', pages[0]).group(1))
    assert page.lstrip().lower().startswith("<!doctype html") and "<title>surface</title>" in page
    images = [bundle for cell in outputs for bundle in cell if "<img" in bundle.get("text/html", "")]
    assert len(images) == 2  # the filled contours and the trajectory
    printed = "".join(bundle.get("stream", "") for cell in outputs for bundle in cell)
    assert "1st PC" in printed and "eigenvalues" in printed
    assert Path("python-example/run/model.onnx").exists()
