"""maxent_lib: the helper library of the course "Deep learning through maximum entropy".

Each module has one job and is introduced by a lesson notebook:

- ``info``        entropy, cross-entropy, KL divergence (lesson 01)
- ``maxent``      the discrete maximum-entropy solver (lesson 01)
- ``softmax``     softmax regression and its moment residuals (lesson 02)
- ``data``        synthetic tasks with known P(Y|X), MNIST-1D, 8x8 digits (lessons 01-06)
- ``runtime``     device, seeding and the quick/full profile (every lesson)
- ``conditions``  the two feature conditions, measured and exact (lesson 03)
- ``quadrature``  expectations over a synthetic task's inputs by quadrature (lesson 03)
- ``probes``      many flexible probes trained as one stacked model (lesson 03)
- ``coverage``    coverage of the feature-condition intervals, by simulation (lesson 03)
- ``models``      MLPs, residual MLPs, layer-wise growth, stacked seeds (lesson 04)
- ``ensemble``    many small models trained as one stacked model (lessons 05-06)
- ``ablation``    ablation grids with resumable results (lessons 05-06)
- ``plots``       the course figure style (every lesson)
- ``metrics``     accuracy, cross-entropy, predictive entropy, calibration error (lesson 06)
- ``exercises``   answer checks for every lesson's exercises

Importing the package has no side effects: nothing is downloaded, seeded or plotted.
"""

__version__ = "0.1.0"
