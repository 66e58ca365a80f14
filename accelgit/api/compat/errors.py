"""The one error for what the ``accelerator`` name does not provide."""
from __future__ import annotations

# the Accelerator's dataset API: names and modules (datasets are out of scope)
DATASET_NAMES = frozenset({
    "Dataset", "DatasetWriter", "DatasetList", "SkipSlice", "SkipDataset", "DatasetError", "NoSuchDatasetError",
    "DatasetUsageError", "dataset", "dsutil", "sourcedata", "standard_methods", "_dsutil", "dataset_type",
})

DATASETS = "datasets are not supported (accelerator.dataset)"

# the Accelerator's standard methods, all of them about datasets
DATASET_METHODS = frozenset({
    "csvexport", "csvimport", "csvimport_zip", "dataset_checksum", "dataset_checksum_chain", "dataset_concat",
    "dataset_fanout", "dataset_fanout_collect", "dataset_filter_columns", "dataset_hashpart", "dataset_merge",
    "dataset_rename_columns", "dataset_sort", "dataset_type", "dataset_unroundrobin",
})


class NotSupported(ImportError):
    """``import accelerator.X`` / ``from accelerator import X`` of something
    accelgit does not implement."""


def unsupported(name: str) -> NotSupported:
    """The error for ``accelerator.<name>`` (a dotted tail for a module)."""
    if name.split(".")[0] in DATASET_NAMES:
        return NotSupported(DATASETS, name=f"accelerator.{name}")
    return NotSupported(f"accelgit does not provide accelerator.{name} (see accelgit's docs/accelerator.md for "
                        f"what it runs of the Accelerator's API)", name=f"accelerator.{name}")
