"""The pharmacy: from a prescription to a checked bag recipe and a checked pump program.

Two kinds of data meet here, and the package keeps them apart:

- ``reference``: the sourced constants (``knowledge/pharmacy.toml``) and the label's dose
  limits, each value with its source id;
- ``site_library``: what a hospital pharmacy maintains and validates itself.

``resolution.resolve_library`` joins them once per library: ``bag_setup`` for each bag
duration, ``expiry`` for the beyond-use times, ``label_rows`` for the fixed rows copied
from the label. Then, for each bag:

- ``prescription``: ``prescribe`` a dose and ``check_prescription`` against the label;
- ``recipe``: ``prepare_bag`` gives a ``Recipe``, or a ``Refusal`` naming every hard stop;
- ``mass_balance``: the arithmetic the recipe solves with and its independent check uses;
- ``pump``: a pump program and a line flush against the bag they are for.

Findings are ``CheckReport`` values (``blina.domain.checks``), never exceptions.

Nothing is re-exported here: an importer names the module of the concept it uses
(``from blina.domain.pharmacy.recipe import prepare_bag``), so each name has one import
path and an import line says which concept its module depends on.
"""
