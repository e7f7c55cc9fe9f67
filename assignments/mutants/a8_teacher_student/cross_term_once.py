"""Counts the student-teacher cross term once: (student + teacher - cross) / pi, the factor 2 missing."""

QUESTION = "q1"


def generalization_error(Q, R, T, v, v_star):
    Q, R, T = (np.asarray(x, dtype=float) for x in (Q, R, T))
    v, v_star = np.asarray(v, dtype=float), np.asarray(v_star, dtype=float)
    dq, dt = np.diag(Q), np.diag(T)

    def term(C, da, db):
        return np.arcsin(np.clip(C / np.sqrt(np.outer(1 + da, 1 + db)), -1.0, 1.0))

    student = v @ term(Q, dq, dq) @ v
    teacher = v_star @ term(T, dt, dt) @ v_star
    cross = v @ term(R, dq, dt) @ v_star
    return float((student + teacher - cross) / math.pi)
