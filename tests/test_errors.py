"""InputError: the one error type for bad input."""

from __future__ import annotations


def test_input_error_survives_pickling() -> None:
    """Worker pools and Ray send errors back pickled: all three parts must arrive."""
    import pickle

    from robopref.errors import InputError

    error = pickle.loads(pickle.dumps(InputError("pool/manifest.parquet", "task", "missing")))
    assert (error.path, error.field, error.message) == ("pool/manifest.parquet", "task", "missing")
    assert str(error) == "pool/manifest.parquet: task: missing"
