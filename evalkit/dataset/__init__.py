"""Datasets: samples and their loaders."""

from ._fields import FieldSpec, RecordToSample
from ._hf import hf_dataset
from ._loaders import csv_dataset, file_dataset, json_dataset
from ._sample import Dataset, MemoryDataset, Sample, sample_input_len
from ._target import Target

__all__ = [
    "Dataset",
    "FieldSpec",
    "MemoryDataset",
    "RecordToSample",
    "Sample",
    "Target",
    "csv_dataset",
    "file_dataset",
    "hf_dataset",
    "json_dataset",
    "sample_input_len",
]
