"""Recording a PyTorch training run in Terrain's run-folder layout, from the user's own loop.

The folder is the one ``terrain train`` writes (``Sources/TerrainTraining/Trainer.swift``), so
``terrain trajectory --run``, ``terrain evolve --run``, ``terrain serve`` and this package's
`trajectory` and `evolve` read it::

    run.json                               checkpoint list, learning-rate drops, final metrics
    metrics.csv, metrics.jsonl             a row per recorder.epoch(...)
    iterations.csv                         a row per recorder.step(...)
    checkpoints/epoch-0000.safetensors     the initialization; then one per epoch
    checkpoints/iter-00000100.safetensors  every `every` steps: the trajectory
    final.safetensors                      the weights at close()
    model.onnx                             with `example=`: the network, which the program loads
                                           the checkpoints into (run.json's key "onnx")

Checkpoints are the module's ``state_dict`` as safetensors (float32; BN's ``num_batches_tracked``
as int64), with ``terrain.epoch`` and ``terrain.iteration`` in their metadata and, for epoch
checkpoints and the final one, the metrics given to `epoch` (``terrain.train_loss``, …, which
``evolve`` shows as what training logged).

The program needs the network itself to evaluate a run: either its ONNX export (give `example=`,
a batch of inputs; exported at close() with the final weights) or, for a network of Terrain's
zoo, its architecture (``architecture="mlp,hidden=64x64"``; the command line then needs
``--model`` with the same text, which this package's calls take from run.json).
"""
from __future__ import annotations

import io
import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import _models, _safetensors
from ._typing import PathLike


_EPOCH_COLUMNS = ["epoch", "iteration", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "weight_norm", "seconds",
                  "images_per_s"]
_ITERATION_COLUMNS = ["iteration", "epoch", "lr", "loss", "acc", "weight_norm"]
#: The metrics an epoch checkpoint carries in its metadata (``terrain.<name>``), as Terrain's do.
_LOGGED = ("train_loss", "train_acc", "test_loss", "test_acc")
#: A learning-rate drop: the rate falls below this fraction of a rate that held for at least the
#: step before (a step or plateau schedule). Smooth schedules (cosine, warm-up) never hold a rate,
#: so their steps are not drops; every step's rate is in iterations.csv anyway.
_DROP_RATIO = 0.5


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: Any) -> Optional[float]:
    if value is None:
        return None
    if hasattr(value, "detach"):
        value = value.detach().cpu().item()
    return float(value)


def _cell(value: Optional[float]) -> str:
    # As Terrain's MetricsLog writes them: whole numbers without a fraction, nil as an empty cell.
    if value is None:
        return ""
    if math.isfinite(value) and value == round(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Recorder:
    """Records a PyTorch training run into `out` (see the module's documentation for the layout).

    ``recorder.step(loss=…, lr=…)`` after each optimizer step (a checkpoint every `every` steps),
    ``recorder.epoch(train_loss=…, test_loss=…, test_acc=…)`` at the end of each epoch (an epoch
    checkpoint, a row of metrics.csv), ``recorder.close()`` at the end (final.safetensors, the ONNX
    export, run.json marked finished); or use it as a context manager. The initialization is saved
    as ``checkpoints/epoch-0000.safetensors`` when the recorder is made.
    """

    def __init__(self, model: Any, out: PathLike = "runs/run", every: int = 100, *, example: Any = None,
                 architecture: Optional[str] = None, dataset: Optional[str] = None, opset: int = _models.DEFAULT_OPSET,
                 overwrite: bool = False) -> None:
        if every < 0:
            raise ValueError("every must be 0 (epoch checkpoints only) or positive")
        self.model = model
        self.out = Path(out)
        self.every = every
        self.example = example
        self.architecture = architecture
        self.dataset = dataset
        self.opset = opset
        self.iteration = 0
        self.epochs_done = 0
        self.closed = False
        run_json = self.out / "run.json"
        if run_json.exists() and not overwrite:
            raise FileExistsError(f"{run_json} exists: choose another folder, or pass overwrite=True to record over it")
        (self.out / "checkpoints").mkdir(parents=True, exist_ok=True)
        for name in ("final.safetensors", "model.onnx", "metrics.csv", "metrics.jsonl", "iterations.csv"):
            if (self.out / name).exists():
                (self.out / name).unlink()
        for old in (self.out / "checkpoints").glob("*.safetensors"):
            old.unlink()
        self._started = _utc_now()
        self._checkpoints: List[Dict[str, Any]] = []
        self._rate_changes: List[Dict[str, Any]] = []
        self._epoch_rows: List[Dict[str, Optional[float]]] = []
        self._last_metrics: Dict[str, Optional[float]] = {}
        self._rates: List[float] = []
        self._epoch_started = time.monotonic()
        self._iterations = open(self.out / "iterations.csv", "w", newline="")
        self._iterations.write(",".join(_ITERATION_COLUMNS) + "\n")
        self._save("checkpoints/epoch-0000.safetensors", epoch=0)
        self._write_run_json()

    # Recording

    def step(self, loss: Any = None, lr: Optional[float] = None, acc: Any = None) -> None:
        """One optimizer step done: its batch loss, learning rate and accuracy (any may be None);
        a checkpoint ``iter-NNNNNNNN`` every `every` steps."""
        self._check_open()
        self.iteration += 1
        if lr is not None:
            self._note_rate(float(lr))
        saving = self.every > 0 and self.iteration % self.every == 0
        norm = self._weight_norm() if saving else None
        row = [self.iteration, self.epochs_done + 1, _number(lr), _number(loss), _number(acc), norm]
        self._iterations.write(",".join(_cell(None if v is None else float(v)) for v in row) + "\n")
        self._iterations.flush()
        if saving:
            self._save(f"checkpoints/iter-{self.iteration:08d}.safetensors", epoch=self.epochs_done + 1)
            self._write_run_json()

    def epoch(self, train_loss: Any = None, train_acc: Any = None, test_loss: Any = None, test_acc: Any = None,
              lr: Optional[float] = None, samples: Optional[int] = None) -> None:
        """An epoch done: its metrics (losses; accuracies in percent, as Terrain's) as a row of
        metrics.csv and in the epoch checkpoint's metadata. `samples`: the training samples seen
        in the epoch, for its images/s."""
        self._check_open()
        self.epochs_done += 1
        seconds = time.monotonic() - self._epoch_started
        self._epoch_started = time.monotonic()
        if lr is None and self._rates:
            lr = self._rates[-1]
        metrics = {"train_loss": _number(train_loss), "train_acc": _number(train_acc), "test_loss": _number(test_loss),
                   "test_acc": _number(test_acc)}
        row = {"epoch": float(self.epochs_done), "iteration": float(self.iteration), "lr": _number(lr), **metrics,
               "weight_norm": self._weight_norm(), "seconds": seconds,
               "images_per_s": (samples / seconds if samples and seconds > 0 else None)}
        self._epoch_rows.append(row)
        self._last_metrics = metrics
        self._write_metrics()
        self._save(f"checkpoints/epoch-{self.epochs_done:04d}.safetensors", epoch=self.epochs_done, metrics=metrics)
        self._write_run_json()

    def close(self) -> None:
        """Ends the run: ``final.safetensors``, the ONNX export (with `example`), run.json."""
        if self.closed:
            return
        self._save("final.safetensors", epoch=self.epochs_done, metrics=self._last_metrics, listed=True)
        if self.example is not None and not self.architecture:
            _models.export_onnx(self.model, self.example, self.out / "model.onnx", self.opset)
        self.closed = True
        self._iterations.close()
        self._write_run_json(finished=True)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.close()
        else:
            # A failed loop leaves what it recorded, unfinished (no final.safetensors).
            self._iterations.close()
            self.closed = True

    # Files

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"the recorder of {self.out} is closed")

    def _note_rate(self, rate: float) -> None:
        rates = self._rates
        if len(rates) >= 2 and rates[-1] == rates[-2] and rate < _DROP_RATIO * rates[-1]:
            # As `terrain train` records a change: the epoch in progress (from 0) and the steps
            # done before the first step at the new rate.
            self._rate_changes.append({"epoch": self.epochs_done, "iteration": self.iteration - 1, "from": rates[-1], "to": rate})
        rates.append(rate)
        del rates[:-2]

    def _weight_norm(self) -> float:
        total = 0.0
        for parameter in self.model.parameters():
            total += float(parameter.detach().double().pow(2).sum().item())
        return math.sqrt(total)

    def _save(self, name: str, epoch: int, metrics: Optional[Dict[str, Optional[float]]] = None, listed: bool = True) -> None:
        metadata = {"terrain.epoch": str(epoch), "terrain.iteration": str(self.iteration), "terrain.recorder": "python"}
        if self.dataset:
            metadata["terrain.dataset"] = self.dataset
        for key, value in (metrics or {}).items():
            if key in _LOGGED and value is not None:
                metadata[f"terrain.{key}"] = repr(value)
        _safetensors.write(self.out / name, self.model.state_dict(), metadata)
        if listed:
            self._checkpoints.append({"epoch": epoch, "file": name, "iteration": self.iteration})

    def _write_metrics(self) -> None:
        text = io.StringIO()
        text.write(",".join(_EPOCH_COLUMNS) + "\n")
        lines = []
        for row in self._epoch_rows:
            text.write(",".join(_cell(row[c]) for c in _EPOCH_COLUMNS) + "\n")
            pairs = ", ".join(f'"{c}": {_json_number(row[c])}' for c in _EPOCH_COLUMNS)
            lines.append("{" + pairs + "}\n")
        _write_atomically(self.out / "metrics.csv", text.getvalue())
        _write_atomically(self.out / "metrics.jsonl", "".join(lines))

    def _write_run_json(self, finished: bool = False) -> None:
        description = self.architecture or type(self.model).__name__
        record: Dict[str, Any] = {
            "checkpoints": self._checkpoints,
            "config": {"recorder": "terrain (Python)", "every": self.every, "epochs": self.epochs_done,
                       **({"dataset": self.dataset} if self.dataset else {})},
            "learning_rate_changes": self._rate_changes,
            "model": {"architecture": description.split(",")[0], **({"description": self.architecture} if self.architecture else {})},
            "started": self._started,
        }
        if finished:
            record["finished"] = _utc_now()
            if (self.out / "model.onnx").exists():
                record["onnx"] = "model.onnx"
        for part in ("train", "test"):
            loss, acc = self._last_metrics.get(f"{part}_loss"), self._last_metrics.get(f"{part}_acc")
            if loss is not None:
                record[f"final_{part}"] = {"loss": loss, **({"accuracy": acc} if acc is not None else {})}
        _write_atomically(self.out / "run.json", json.dumps(record, indent=2, sort_keys=True))


def _json_number(value: Optional[float]) -> str:
    return "null" if value is None or not math.isfinite(value) else _cell(value)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(text)
    os.replace(temporary, path)
