"""DivNet's kernel constants (section 2.1.1), defined once: the kernel's defaults and the paper's numbers."""

__all__ = ["BETA_NUMERATOR", "DEFAULT_EPS"]

#: The paper's bandwidth is beta = BETA_NUMERATOR / |T|.
BETA_NUMERATOR = 10.0
#: The paper's diagonal perturbation eps of L' + eps I.
DEFAULT_EPS = 0.01
