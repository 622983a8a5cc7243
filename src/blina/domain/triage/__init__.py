"""Home symptom triage: a check-in becomes a level, the rules that fired, and instructions.

One module per concept, each importing only modules above it in this list (a layers
contract in ``pyproject.toml`` checks it); import each name from its module, as for
``blina.domain.toxicity``:

- ``check_in``: what a patient or family reports (``CheckIn``, ``SymptomAnswer``,
  ``Temperature``) and what the course says about them now (``Context``);
- ``rules``: the rules as data (``TriageLevel``, ``Symptom``, ``SymptomRule``,
  ``TemperatureRule``, the instructions ``Guidance``, ...);
- ``result``: the answer (``Triage``, with each ``Finding`` and ``FiredRule``);
- ``index``: the rule set arranged for lookup, decided once (``RuleIndex``), the speed
  machinery kept apart from the rules it is built from;
- ``rulebook``: the whole rule set as one value (``TriageRules``), which builds its index;
- ``engine``: ``triage(check_in, context, rules, now=...)``, pure; it checks the answers
  against the rule set, compares them with the earlier check-ins and fires the rules.
"""
