"""Numba settings for every jitted kernel in the package, in one place.

Every private kernel is decorated with :func:`jit`; nothing else in the package
calls :func:`numba.njit` directly, so the flags below are the only ones in use.

``fastmath``
    Off. The kernels are small next to the BLAS calls around them, and with
    fastmath LLVM may reassociate sums and assume there are no NaNs or
    infinities; the log-space recursion in :mod:`divnet_nb.core.dpp` relies on
    ``-inf`` behaving like ``log(0)``, and we want a kernel to return the same
    bits as its pure-Python twin (``NUMBA_DISABLE_JIT=1``).
``parallel``
    Off. The O(n^2) and O(N k^2) loops that Numba runs here cost milliseconds;
    the expensive step (the Gram matrix) is a BLAS call that is already
    multi-threaded.
``nogil``
    On: a kernel releases the GIL while it runs, so another thread can draw the next
    block of random numbers meanwhile (the online SGD of :mod:`divnet_nb.theory.online`).
    The kernels touch only the arrays they are given.
``cache``
    On, so that a new Python process (a notebook kernel, the command line, a
    test run) loads compiled kernels from the cache instead of compiling them
    again: ``__pycache__`` beside the sources in a checkout of the repository,
    ``numba/`` in the cache folder when the package is installed, so that it never
    writes into ``site-packages`` (:func:`divnet_nb.paths.kernel_cache_dir`).
    ``NUMBA_CACHE_DIR``, when set, wins as Numba documents.

Set the environment variable ``NUMBA_DISABLE_JIT=1`` to run the kernels as
plain Python; the test suite does this once so that coverage sees their bodies.
"""

from __future__ import annotations

import numba

from .. import paths  # where things live: a leaf module (stdlib and platformdirs only)

FASTMATH = False
PARALLEL = False
CACHE = True
NOGIL = True

NUMBA_FLAGS = {"fastmath": FASTMATH, "parallel": PARALLEL, "cache": CACHE, "nogil": NOGIL}


#: Where compiled kernels are cached (None: Numba's own choice), decided once at import.
CACHE_DIR = paths.kernel_cache_dir()


def jit(func):
    """Compile ``func`` in nopython mode with the package's flags."""
    if not CACHE or CACHE_DIR is None or numba.config.CACHE_DIR:
        return numba.njit(**NUMBA_FLAGS)(func)
    # Numba picks a kernel's cache folder when it is decorated, from config.CACHE_DIR
    # first: set it for our kernels only, and put back what was there.
    saved, numba.config.CACHE_DIR = numba.config.CACHE_DIR, str(CACHE_DIR)
    try:
        return numba.njit(**NUMBA_FLAGS)(func)
    finally:
        numba.config.CACHE_DIR = saved
