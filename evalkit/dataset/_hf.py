"""``hf_dataset``: datasets read with Hugging Face's ``datasets`` library (``evalkit[hf]``)."""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import warnings
from pathlib import Path
from typing import Any

from .._util._paths import resolve_data_path
from ..errors import DatasetError
from ._fields import FieldSpec, RecordToSample, record_mapper, records_to_samples
from ._loaders import samples_dataset
from ._sample import Dataset


def hf_dataset(
    path: str,
    split: str,
    name: str | None = None,
    data_dir: str | None = None,
    revision: str | None = None,
    sample_fields: FieldSpec | RecordToSample | None = None,
    auto_id: bool = False,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_choices: bool | int | None = None,
    limit: int | None = None,
    trust: bool = False,
    cached: bool = True,
    **kwargs: Any,
) -> Dataset:
    """Samples from a Hugging Face dataset: a Hub name, or a local directory or builder.

    A Hub dataset is saved under ``$EVALKIT_CACHE_DIR/hf_datasets`` (default
    ``~/.cache/evalkit``) the first time and read from there afterwards, so a
    rerun or a retry needs no network; ``cached=False`` or a ``revision``
    fetches it again. Local paths are never cached by evalkit (``datasets``
    notices when their files change). ``kwargs`` go to ``datasets.load_dataset``.
    """
    datasets = _import_datasets()
    local = resolve_data_path(path)
    source = str(local) if local.exists() else path
    loaded = _load(datasets, source, split, name, data_dir, revision, trust, cached, kwargs)
    if shuffle:
        loaded = loaded.shuffle(seed=seed)
    if limit is not None:
        loaded = loaded.select(range(min(limit, len(loaded))))
    samples = records_to_samples(loaded.to_list(), record_mapper(sample_fields, path), auto_id)
    return samples_dataset(samples, shuffle=False, seed=None, shuffle_choices=shuffle_choices,
                           limit=None, name=Path(path).stem if local.exists() else path,
                           location=source, sha256=None)


def _import_datasets() -> Any:
    try:
        import datasets  # the optional extra: imported only when hf_dataset is used
    except ImportError as exc:
        raise DatasetError(
            "hf_dataset needs the 'datasets' package: pip install 'evalkit[hf]'") from exc
    return datasets


def _load(datasets: Any, source: str, split: str, name: str | None, data_dir: str | None,
          revision: str | None, trust: bool, cached: bool, kwargs: dict[str, Any]) -> Any:
    options = dict(kwargs)
    if trust:
        if "trust_remote_code" in inspect.signature(datasets.load_dataset).parameters:
            options["trust_remote_code"] = True
        else:
            warnings.warn("trust=True is ignored: this version of 'datasets' runs no dataset "
                          "scripts", stacklevel=3)
    cache = None if Path(source).exists() else _cache_dir(source, name, data_dir, split, options)
    try:
        if cache is not None and cached and revision is None and cache.is_dir():
            return datasets.load_from_disk(str(cache))
        loaded = datasets.load_dataset(source, name=name, data_dir=data_dir, split=split,
                                       revision=revision, **options)
        if cache is not None:
            loaded.save_to_disk(str(cache))
        return loaded
    except Exception as exc:  # datasets raises many unrelated types; each becomes one line
        raise DatasetError(f"hf_dataset({source!r}, split={split!r}): "
                           f"{type(exc).__name__}: {exc}") from exc


def _cache_dir(source: str, name: str | None, data_dir: str | None, split: str,
               options: dict[str, Any]) -> Path:
    key = repr((source, name, data_dir, split, sorted(options.items(), key=str)))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    root = Path(os.environ.get("EVALKIT_CACHE_DIR") or Path.home() / ".cache" / "evalkit")
    return root / "hf_datasets" / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', source)}-{digest}"
