"""accelgit: jobs built the Accelerator's way, tied to git."""

__version__ = "0.1.0"
