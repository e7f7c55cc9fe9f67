"""Theory of pruned networks: the teacher-student model of two-layer networks.

* :mod:`.teacher_student` - order parameters and the exact generalisation error of a
  student learning a teacher, both soft committee machines with g(u) = erf(u / sqrt 2)
  and Gaussian inputs (Saad & Solla 1995; the setting of Acharyya et al.'s analysis of
  diversity-based pruning).
* :mod:`.online` - :func:`online_sgd`: the student trained by online SGD, one fresh input
  per step, with its learning curve of exact errors.

Names are loaded on first use (:mod:`lazy_loader`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "teacher_student": ["committee_output", "generalization_error", "order_parameters"],
        "online": ["LearningCurve", "online_sgd"],
    },
)
