"""Studies over stored scores and searches (the lab layer above :mod:`nwot.search`; the benchmark scripts in
``benchmarks/`` are thin command lines over it).

* maths: :mod:`~nwot.study.correlation` (rank correlations, the one rule for ``-inf`` / NaN),
  :mod:`~nwot.study.replay` (searches replayed from stored scores and traces);
* data: :mod:`~nwot.study.scores` (stored NASWOT scores), :mod:`~nwot.study.naslib` (NASLib files),
  :mod:`~nwot.study.cells` (cell sets), :mod:`~nwot.study.paper` (published numbers);
* studies: :mod:`~nwot.study.correlation_study` (NB201), :mod:`~nwot.study.nb101`, :mod:`~nwot.study.nds`,
  :mod:`~nwot.study.search_jobs` (the resumable NB201 search comparison), :mod:`~nwot.study.pnas_blockqnn`,
  :mod:`~nwot.study.open_space`, :mod:`~nwot.study.augmentation`, :mod:`~nwot.study.kernels`;
* reports: :mod:`~nwot.study.tables`, :mod:`~nwot.study.search_tables`, :mod:`~nwot.study.plots`,
  :mod:`~nwot.study.provenance`.
"""
