"""deepcases shared package: network families, data utilities, evaluation, training, plots.

Importing this package is cheap: TensorFlow/Keras are imported only when a model is built
or trained (see ``shared.models._keras``).
"""

__version__ = "0.1.0"
