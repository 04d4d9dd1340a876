"""Datasets: samples and their loaders."""

from ._loaders import FieldSpec, csv_dataset, json_dataset
from ._sample import Dataset, MemoryDataset, Sample
from ._target import Target

__all__ = ["Dataset", "FieldSpec", "MemoryDataset", "Sample", "Target", "csv_dataset", "json_dataset"]
