"""``streamemo calibrate``: a person's neutral speech made into their own voice baseline.

The seed's voice model sees every MFCC frame as ``(x - mean) / (std + 1e-8)`` against a
neutral baseline; it ships a male and a female one. This package records (or reads)
someone's calm, neutral speech, checks that it is usable (``speech``), measures the
baseline the seed's way over it (``stats``) and stores it (``store``) where
``-o audio.baseline=personal`` (or a name, or a path) finds it.
"""
