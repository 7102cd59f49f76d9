"""Terrain from Python: loss landscapes of PyTorch models, computed by the terrain program.

    import terrain
    s = terrain.surface(model, (x, y), x=(-1, 1, 51), y=(-1, 1, 51), xnorm="filter", ignore="biasbn")
    s.train_loss          # (51, 51) NumPy array; s.x, s.y the coordinates
    s.figure(kind="contour")   # Terrain's own figures; s in a notebook: the interactive viewer

The calls (`surface`, `interpolate`, `plane`, `trajectory`, `evolve`, `hessian`, `hessian_map`,
`sharpness`) run the program found through ``$TERRAIN``, the PATH or this repository's release
build; `load` reads any file it writes; `Recorder` records a PyTorch training loop as a run
folder. torch and onnx are imported only when a ``torch.nn.Module`` is given.
"""
from ._program import find_program
from .calls import evolve, hessian, hessian_map, interpolate, plane, sharpness, surface, trajectory
from .errors import TerrainError
from .figures import Figure, Figures
from .recorder import Recorder
from .results import (Checkpoint, Directions, Export, Projection, Result, Run, Sharpness, Spectrum, Stack, Surface,
                      Table, load)

__version__ = "0.1.0"

__all__ = ["surface", "interpolate", "plane", "trajectory", "evolve", "hessian", "hessian_map", "sharpness", "load",
           "Recorder", "TerrainError", "Result", "Surface", "Stack", "Spectrum", "Directions", "Projection", "Sharpness",
           "Table", "Export", "Checkpoint", "Run",
           "Figure", "Figures", "find_program"]
