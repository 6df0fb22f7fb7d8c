"""Stored results and where they came from (lessons 03 and 05-07).

- :mod:`~maxent_lib.store.files`       JSON-lines results files, safe under concurrent writers,
  kills and damage;
- :mod:`~maxent_lib.store.locking`     file locks and atomic writes (also used by the data cache);
- :mod:`~maxent_lib.store.codehash`    the hash of the code that computes a result;
- :mod:`~maxent_lib.store.provenance`  provenance files, and whether a stored result is current.
"""
