"""Re-planning a course from its event log: interruptions, restarts, discontinuation.

A course is its plan (``plan_course``) plus what happened since. ``replay.replan``
replays the infusion from the first bag, in elapsed (UTC) time, and applies the label's
rules:

- an interruption is judged by ``modifications.decide`` (interrupt, restart dose and
  step-up, corticosteroid, or permanent discontinuation);
- after an interruption of at most ``same_cycle_max_days`` (7) the same cycle continues
  until its labelled infusion time (28 days) is given in total; a longer one starts the
  next cycle of the plan (the interrupted cycle counts as given); later cycles keep the
  days the plan put between them (a chemotherapy block moves with the course);
- a reaction that takes longer to resolve than the acting rule allows means permanent
  discontinuation (when no resolution time is logged, it is taken as the restart minus
  the recovery days the rule asks for: the latest the log allows);
- a restart after ``restart_care_min_hours`` (4) or more gets the regimen's RESTART
  premedication and supervision or hospitalization;
- a restart is never above the label's step for the situation: the regimen's dose for
  that point of the cycle, lowered to the rule's restart dose, which steps up again
  after the rule's days (7) of infusion without recurrence. A dose above that is
  planned at the label's step with a hard-stop decision;
- nothing is infused after a discontinuation.

The result is a new ``CoursePlan`` in the planner's format plus the decisions, each
with its reasons and source (a source id, or ``event-log`` for the prescriber's own
discontinuation). The old plan is left as it was.

The package's modules, by concept:

- ``events``: the event log's entries and the checks a log passes before it is replayed;
- ``decisions``: what a re-plan answers (``Replan``, ``Decision``, ``CourseStatus``);
- ``replay``: ``replan`` and the state machine the events drive (infusing, interrupted,
  treatment-free, ended);
- ``interruption_rules`` and ``restart_rules``: the label's rules when the infusion
  stops and when it restarts, as pure functions of their inputs;
- ``ledger``: the infusion as given, piece by piece, and the plan it makes.

Nothing is re-exported here: an importer names the module of the concept it uses
(``from blina.domain.replanning.replay import replan``), so each name has one import path.
"""
