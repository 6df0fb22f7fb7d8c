"""Declared parameter constraints: every public function states once what its arguments must be.

Modelled on scikit-learn's ``validate_params``: a public function is decorated with
:func:`validate`, naming a constraint for each of its parameters::

    @validate(T=Array(ndim=2), y=Labels(n_classes="n_classes"), n_classes=Integer(low=2,
              optional=True), alpha=Real(low=0))
    def fit(T, y, n_classes=None, alpha=0.0): ...

Before the function runs, each argument is checked against its constraint and passed on in a
standard form (an :class:`Array` as a float64 NumPy array, an :class:`Integer` as ``int``, a
:class:`Real` as ``float``, :class:`Labels` as an int64 array; each constraint's docstring says
what it passes on): a wrong *type* raises :class:`~maxent_lib._checks.InputTypeError` (a
``TypeError`` and a ``ValueError``), a wrong *value* ``ValueError``, each with a message that
names the argument. Arguments are checked in the order of the parameters, except that a
constraint that refers to another argument by name (``Labels(n_classes="n_classes")``) is
checked after it. A class is declared by decorating the class (its ``__init__`` is checked: the
way to declare a dataclass's fields) or its ``__init__``.

Declarations are complete by construction: :func:`validate` refuses, when the module is imported,
a function with a parameter that has no constraint (``Anything(reason)`` opts out explicitly).
Every declared function is listed in :data:`DECLARED`, and the bad-input suite
(``tests/test_badinput.py``) generates its cases from the declarations: each constraint knows the
bad values it must refuse (:meth:`Constraint.bad_values`). Checks that relate several arguments
(two arrays with the same number of rows, labels that fit the fitted model) stay in the
function's body.

The constraints: numbers (:class:`Real`, :class:`Integer`, :class:`Seed`), :class:`Flag`,
:class:`Choice`, :class:`Text`, :class:`PathArg`, arrays (:class:`Array`, :class:`Labels`,
:class:`Probabilities`), tensors (:class:`Tensor`, :class:`LogProbabilities`), objects
(:class:`Instance`, :class:`Function`, :class:`Device`), containers (:class:`Items` for lists,
:class:`Tuple` for fixed records such as a data set's four arrays, :class:`Dict` for configs
and records), :class:`OneOf` (a value that meets one of several constraints, e.g. a penalty or a
list of penalties) and :class:`Anything`. A module may define its own constraint (a subclass of
:class:`Constraint`) for an argument only it takes. Introduced with the library (lesson 00).

The package's modules:

- :mod:`~maxent_lib.validation.core`        the :class:`Constraint` base, :func:`validate` and
  :data:`DECLARED`;
- :mod:`~maxent_lib.validation.scalars`     numbers, flags, choices, text and paths;
- :mod:`~maxent_lib.validation.arrays`      arrays, labels, probabilities and tensors;
- :mod:`~maxent_lib.validation.objects`     instances, functions, devices, :class:`Anything`;
- :mod:`~maxent_lib.validation.containers`  lists, fixed tuples, dicts and :class:`OneOf`.

Nothing here imports torch until a tensor is checked.
"""

from __future__ import annotations

from .arrays import Array, Labels, LogProbabilities, Probabilities, Tensor
from .containers import Dict, Items, OneOf, Tuple
from .core import DECLARED, BadValue, Constraint, Declared, is_path_like, validate
from .objects import Anything, Device, Function, Instance, devices
from .scalars import Choice, Flag, Integer, PathArg, Real, Seed, Text, check_regular_file

__all__ = ["DECLARED", "Anything", "Array", "BadValue", "Choice", "Constraint", "Declared",
           "Device", "Dict", "Flag", "Function", "Instance", "Integer", "Items", "Labels",
           "LogProbabilities", "OneOf", "PathArg", "Probabilities", "Real", "Seed", "Tensor",
           "Text", "Tuple", "check_regular_file", "devices", "is_path_like", "validate"]
