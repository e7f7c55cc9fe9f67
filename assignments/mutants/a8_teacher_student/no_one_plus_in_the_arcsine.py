"""Normalises each arcsine's argument by sqrt(Q_ii Q_kk) instead of sqrt((1 + Q_ii)(1 + Q_kk))."""

QUESTION = "q1"


def generalization_error(Q, R, T, v, v_star):
    Q, R, T = (np.asarray(x, dtype=float) for x in (Q, R, T))
    v, v_star = np.asarray(v, dtype=float), np.asarray(v_star, dtype=float)
    dq, dt = np.diag(Q), np.diag(T)

    def term(C, da, db):
        return np.arcsin(np.clip(C / np.sqrt(np.outer(da, db)), -1.0, 1.0))

    student = v @ term(Q, dq, dq) @ v
    teacher = v_star @ term(T, dt, dt) @ v_star
    cross = v @ term(R, dq, dt) @ v_star
    return float((student + teacher - 2 * cross) / math.pi)
