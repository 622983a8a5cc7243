"""blina's objects as JSON-ready data and back, one module per thing converted.

- ``values``: the shared rules for values: decimals written with their exact digits,
  dates ISO 8601 (``dumps``, ``to_json_ready``), and fields read back checked, naming
  the field when a value is not what it allows (``json_number``, ``json_instant``, ...);
- ``plan``: a course plan (``blina plan --format json``, the API);
- ``replanning``: the course's event log (read and stored) and a re-planned course;
- ``course_state``: a course's state at a moment;
- ``recipe``: a bag recipe or its refusal, and the infusion read back from it;
- ``grading``: a toxicity grading.

Shared by the CLI, the API and the services, so all of them read and write the same
shapes. Nothing is re-exported here: an importer names the module it uses.
"""
