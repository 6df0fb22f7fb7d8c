"""maxent_lib: the helper library of the course "Deep learning through maximum entropy".

Each module has one job and is introduced by a lesson notebook:

- ``info``        entropy, cross-entropy, KL divergence (lesson 01)
- ``maxent``      the discrete maximum-entropy solver, and the penalised conditional problem's
                  duality (lessons 01-02)
- ``softmax``     softmax regression and its moment residuals (lesson 02)
- ``data``        synthetic tasks with known P(Y|X), MNIST-1D, 8x8 digits (lessons 01-06)
- ``runtime``     device, seeding and the quick/full profile (every lesson)
- ``profiles``    the quick/full run profile (every lesson; also through ``runtime``)
- ``conditions``  the two feature conditions, measured and exact; the flexible probes and
                  the coverage simulation (subpackage, lessons 03-07)
- ``quadrature``  expectations over a synthetic task's inputs by quadrature (lesson 03)
- ``models``      MLPs, residual MLPs, layer-wise growth, stacked seeds (lessons 03-04)
- ``layerwise``   lesson 04's measurements: the recursive view's test and layer-wise growth
- ``shortcuts``   lesson 05's measurements: shortcuts on XOR, the shortcut grid's verdicts
                  where they hold up (budget check, filters), the null simulation, figures
- ``regularization`` lesson 06's measurements: the entropy each objective asks for, the
                  reliability diagram, per-regulariser verdicts, the stored nets re-trained
- ``evidence``    lesson 07's evidence: every stored grid, the two-profile table, the argument's
                  findings, C6's fit/generalisation split
- ``ablation``    ablation grids: stacked training, resumable results, executors, summaries
                  and the budget check (subpackage, lessons 05-07)
- ``metrics``     accuracy, cross-entropy, predictive entropy, calibration error (lesson 06)
- ``stats``       the statistics of the verdicts: intervals, p-values, Holm (lessons 03-07)
- ``claims``      the paper's claims against the course's measurements (lesson 07)
- ``verdicts``    verdicts on the claims, as tables and sentences (lessons 05-07)
- ``tables``      the one table formatter (lessons 03-07)
- ``plots``       the course figure style (every lesson)
- ``coursemap``   the course map, read from the lessons themselves (lesson 00)
- ``envcheck``    the environment check (lesson 00)
- ``exercises``   answer checks for every lesson's exercises (subpackage)
- ``store``       results files, file locks, the code hash and provenance (subpackage,
                  lessons 03-07)
- ``validation``  the declared constraints of every public function's parameters (subpackage)
- ``_checks``     the check primitives the constraints are made of
- ``__main__``    the command line: ``python -m maxent_lib ablate|stored|coverage|budget``

Importing the package has no side effects: nothing is downloaded, seeded or plotted.
"""

__version__ = "0.1.0"
