"""The snapshot archive, free of snapshot state: which photos (``selection``), who goes where
(``splits``), the per-photo metadata (``rows``), the documents (``documents``), the
content-addressed file store (``store``), the immutable manifest and deltas (``manifest``) and
the tar streamed from stored files (``tarstream``).

Nothing here changes a snapshot's status; ``releases.state`` does, and ``releases.build`` puts
the pieces together.
"""
