"""Theory of pruned networks: the teacher-student model of two-layer networks.

* :mod:`.teacher_student` - order parameters and the exact generalisation error of a
  student learning a teacher, both soft committee machines with g(u) = erf(u / sqrt 2)
  and Gaussian inputs (Saad & Solla 1995; the setting of Acharyya et al.'s analysis of
  diversity-based pruning).
* :mod:`.online` - :func:`online_sgd`: the student trained by online SGD, one fresh input
  per step, with its learning curve of exact errors.
* :mod:`.ode` - :func:`ode_learning_curve`: the N -> infinity learning curve of that SGD,
  the ODEs of the order parameters (Saad & Solla 1995; Goldt et al. 2019 for the trained
  second layer) integrated with scipy; :func:`ode_derivatives` is their right-hand side.
* :mod:`.pruned` and :mod:`.claims` - pruned students: node rules (random, k-DPP with the
  linear or DivNet's RBF kernel, importance) and edge rules (random Bernoulli, random e
  per unit, magnitude, DPP edge), their exact errors from the masked order parameters,
  averages over masks, the parameter-matched sweep and the verdicts of the analysed
  work's claims.
* :mod:`.experiment` - :func:`teacher_student_experiment`: trained students, their learning
  curves beside the ODE's, the parameter-matched sweep and the claims as one JSON dict
  (notebook 12), the ``theory`` experiment's parts; its table and plots are in
  :mod:`divnet_nb.report.theory`.

Names are loaded on first use (:mod:`lazy_loader`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "teacher_student": ["committee_output", "generalization_error", "order_parameters"],
        "online": ["LearningCurve", "online_sgd"],
        "ode": ["ODECurve", "ode_derivatives", "ode_learning_curve"],
        "pruned": [
            "DEFAULT_INPUTS",
            "EDGE_RULES",
            "LINEAR_RIDGE",
            "NODE_RULES",
            "average_error",
            "edge_masks",
            "mask_errors",
            "measured_error",
            "node_kernel",
            "node_masks",
            "prune",
            "pruned_error",
        ],
        "claims": [
            "CLAIMS",
            "Claim",
            "ClaimVerdict",
            "PrunedSweep",
            "SizeVerdict",
            "matched_edges",
            "parameter_matched_sweep",
            "state_claims",
            "sweep_table",
        ],
        "experiment": [
            "FAST_SETTINGS",
            "matched_parameters",
            "mean_masked_order_parameters",
            "ode_restarts",
            "specialised_student",
            "student_part",
            "gather_students",
            "teacher_student_experiment",
            "train_student",
            "unit_roles",
            "Theory",
            "TheorySettings",
        ],
    },
)
