"""``streamemo batch``: many audio files through the configured pipeline, on worker
processes of this machine (``local``) or on the actors of a Ray cluster (``ray_engine``).

``files`` finds the inputs, ``worker`` analyses one file with models loaded once,
``ledger`` remembers what is done (by content), ``results`` writes what a file gave,
``progress`` shows how far it is, ``command`` ties them together.
"""
