"""Data given as a torch Dataset or DataLoader: materialized in order, up to `subset` samples."""
import numpy as np
import pytest

import terrain


def test_a_dataloader_gives_the_surface_of_its_first_samples_in_order(torch, helpers):
    model = helpers.small_mlp(torch)
    x, y = helpers.classification_data(torch, count=60)
    dataset = torch.utils.data.TensorDataset(x, y)
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=False)

    from_loader = terrain.surface(model, loader, x=(-1, 1, 3), y=(-1, 1, 3), subset=37, out="loader.h5", quiet=True)
    stored = np.load("loader.data.npz")
    np.testing.assert_array_equal(stored["x"], x[:37].numpy())
    np.testing.assert_array_equal(stored["y"], y[:37].numpy())
    assert stored["x"].dtype == np.float32 and stored["y"].dtype == np.int64
    assert "train 37" in from_loader.data

    from_arrays = terrain.surface(model, (x[:37], y[:37]), x=(-1, 1, 3), y=(-1, 1, 3), out="arrays.h5", quiet=True)
    np.testing.assert_array_equal(from_loader.train_loss, from_arrays.train_loss)

    from_dataset = terrain.surface(model, dataset, x=(-1, 1, 3), y=(-1, 1, 3), subset=37, out="dataset.h5", quiet=True)
    np.testing.assert_array_equal(from_dataset.train_loss, from_arrays.train_loss)


def test_a_shuffling_loader_keeps_the_order_of_its_pass(torch, helpers):
    x, y = helpers.classification_data(torch, count=20)

    def loader():
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=6, shuffle=True,
                                           generator=torch.Generator().manual_seed(5))
    from terrain import _data
    xs, ys, example = _data.materialize(loader(), subset=None)
    # The same pass again: the batches in the order the loader gives them.
    batches = list(loader())
    np.testing.assert_array_equal(xs, torch.cat([b[0] for b in batches]).numpy())
    np.testing.assert_array_equal(ys, torch.cat([b[1] for b in batches]).numpy())
    assert not np.array_equal(xs, x.numpy())  # shuffled, not the data set's order
    assert tuple(example.shape) == (2, 6)


def test_a_dataset_of_images_and_integer_labels(torch):
    images = torch.rand(10, 1, 4, 4)
    labels = torch.arange(10) % 3
    from terrain import _data
    xs, ys, example = _data.materialize(torch.utils.data.TensorDataset(images, labels), subset=4)
    assert xs.shape == (4, 1, 4, 4) and ys.tolist() == [0, 1, 2, 0]
    assert tuple(example.shape) == (1, 1, 4, 4)


def test_names_sets_and_paths_pass_through(tmp_path):
    from terrain import _data
    assert _data.prepare("fashion-mnist", subset=None, npz_path=tmp_path / "d.npz").arguments == ["--dataset", "fashion-mnist"]
    assert _data.prepare("train,test", subset=None, npz_path=tmp_path / "d.npz").arguments == ["--data", "train,test"]
    (tmp_path / "mine.npz").write_bytes(b"")
    assert _data.prepare(str(tmp_path / "mine.npz"), subset=None, npz_path=tmp_path / "d.npz").arguments == \
        ["--data", str(tmp_path / "mine.npz")]
    with pytest.raises(ValueError):
        _data.prepare((1, 2, 3), subset=None, npz_path=tmp_path / "d.npz")


def test_an_iterable_dataset_in_its_order(torch):
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            for k in range(100):
                yield torch.full((3,), float(k)), k % 4

    from terrain import _data
    xs, ys, example = _data.materialize(Stream(), subset=7)
    assert xs[:, 0].tolist() == list(range(7)) and ys.tolist() == [0, 1, 2, 3, 0, 1, 2]
    assert tuple(example.shape) == (1, 3)
