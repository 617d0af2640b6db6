"""Learned 2-D maps of big, wide data, and how good they are.

``map_2d(x, method=..., seed=...)`` maps an (n, d) array with PCA, UMAP, t-SNE (openTSNE), parametric
UMAP or an autoencoder and returns the coordinates with a quality record (trustworthiness,
continuity, 5-NN accuracy of a label, wall time, peak memory); ``render_map`` draws them (a
datashader image above 200,000 points, an interactive plotly page below). Importing this package
loads neither TensorFlow, umap-learn (numba) nor openTSNE.
"""

from shared.maps.methods import METHODS, PARAMETRIC, MapResult, load_encoder, map_2d
from shared.maps.quality import continuity_score, knn_accuracy_score, map_quality, measure, trustworthiness_score

__all__ = ["METHODS", "PARAMETRIC", "MapResult", "continuity_score", "knn_accuracy_score", "load_encoder", "map_2d",
           "map_quality", "measure", "trustworthiness_score"]
