"""The snapshot archive, free of snapshot state: which photos and who goes in which split
(``selection``, ``splits``), the per-photo metadata (``rows``), the files of a version written
into the store (``writer``), the documents (``documents``, ``croissant``: functions of plain
data), the content-addressed file store (``store``), the immutable manifest and deltas
(``manifest``) and the tar streamed from stored files (``tarstream``).

Nothing here changes a snapshot's status; ``releases.state`` does, and ``releases.build`` puts
the pieces together.
"""
