"""The paper's datasets as flat float32 arrays in [0, 1], found offline first.

=============  ========================  ===============  =============================================
name           train / valid / test      image shape      module (where it comes from)
=============  ========================  ===============  =============================================
``digits``     1297 / - / 500            (8, 8)           :mod:`.digits` (scikit-learn's bundled copy)
``mnist``      60000 / - / 10000         (28, 28)         :mod:`.mnist` (``MNIST/raw/``)
``mnist_rot``  10000 / 2000 / 50000      (28, 28)         :mod:`.mnist_rot` (the official ``.amat``
                                                          files, else **rebuilt from MNIST**)
``cifar10``    50000 / - / 10000         (32, 32, 3)      :mod:`.cifar10` (``cifar-10-batches-py/`` or
                                                          ``cifar-10/cifar10.npz``)
=============  ========================  ===============  =============================================

The data folder is :func:`divnet_nb.paths.data_dir` (``$DIVNET_DATA``, default ``data/``
in a checkout of the repository, the user data folder when installed). Inputs are scaled to [0, 1] as the paper's MATLAB toolbox did and
flattened in C order; labels are int64. Each dataset module registers itself with
:mod:`.registry`; importing this package registers the four above, in this order.
"""

from . import digits, mnist, mnist_rot, cifar10  # noqa: F401, I001 - registration order
from ._common import Dataset, DatasetError, DatasetNotFoundError
from .registry import (
    DatasetSource,
    dataset_names,
    load_dataset,
    register_dataset,
    splits,
    status,
    title,
)

#: The registered datasets' names (the ``--dataset`` choices of the command line).
DATASETS = dataset_names()

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetSource",
    "dataset_names",
    "load_dataset",
    "register_dataset",
    "splits",
    "status",
    "title",
]
